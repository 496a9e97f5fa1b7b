"""`hotline --help` explains itself: every subcommand has a one-line help and a description, every
option its help text, with the default shown."""

import argparse

import pytest

from hotline import cli


class _Parsed(Exception):
    def __init__(self, parser):
        self.parser = parser


def _parser(monkeypatch) -> argparse.ArgumentParser:
    def capture(self, *args, **kwargs):
        raise _Parsed(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(_Parsed) as caught:
        cli.main([])
    return caught.value.parser


def _subcommands(parser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_subcommand_and_option_is_explained(monkeypatch, capsys):
    parser = _parser(monkeypatch)
    commands = _subcommands(parser)
    assert {"up", "worker", "api", "migrate", "seed", "setup", "bench", "token"} <= set(commands)
    (sub_action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {c.dest: c.help for c in sub_action._choices_actions}
    for name, sub in commands.items():
        assert helps.get(name), f"`hotline {name}` has no help line in `hotline --help`"
        assert sub.description and len(sub.description) > 20, f"`hotline {name} --help` has no description"
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"`hotline {name}` option {action.option_strings or action.dest} has no help"
        assert issubclass(sub.formatter_class, argparse.ArgumentDefaultsHelpFormatter), name
    monkeypatch.undo()

    with pytest.raises(SystemExit) as done:
        cli.main(["bench", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "how many tickets to take in (default: 200)" in " ".join(out.split())
    assert "(default: 20)" in out
