"""`hotline token` mints what it is asked for and refuses nonsense with a clear message (exit 2)."""

import pytest

from api.auth import mint, verify
from core.settings import Settings
from domain.vocabulary import Role
from hotline.cli import main


def token(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["token", *args])
    except SystemExit as e:  # argparse refuses a bad value this way
        code = e.code
    out, err = capsys.readouterr()
    return code, out.strip(), err


def test_a_unit_token_for_a_known_unit_verifies(capsys):
    code, out, _ = token(capsys, "--role", "unit", "--unit", "qd.shinan.badaxia", "--hours", "0.5")
    assert code == 0
    actor = verify(Settings().token_secret.get_secret_value(), out)
    assert actor.role == Role.unit and actor.unit == "qd.shinan.badaxia"


@pytest.mark.parametrize("hours", ["0", "-3", "abc", "nan", "100000"])
def test_a_lifetime_that_makes_no_sense_is_refused(capsys, hours):
    code, out, err = token(capsys, "--role", "intake", "--hours", hours)
    assert code == 2 and not out
    assert "--hours" in err and hours in err


def test_an_unknown_unit_is_named_with_what_was_meant(capsys):
    code, out, err = token(capsys, "--role", "unit", "--unit", "qd.shinan.badaxi")
    assert code == 2 and not out
    assert "unknown unit 'qd.shinan.badaxi'" in err and "qd.shinan.badaxia" in err
    code, _, err = token(capsys, "--role", "unit", "--unit", "八大峡街道")  # a name, not the id
    assert code == 2 and "did you mean qd.shinan.badaxia" in err


def test_a_unit_token_needs_its_unit_and_only_units_name_one(capsys):
    code, out, err = token(capsys, "--role", "unit")
    assert code == 2 and not out and "needs --unit" in err
    code, out, err = token(capsys, "--role", "center", "--unit", "qd.shinan.badaxia")
    assert code == 2 and not out and "only for --role unit" in err


def test_mint_itself_refuses_a_dead_token():
    secret = Settings().token_secret.get_secret_value()
    for hours in (0, -1):
        with pytest.raises(ValueError, match="hours"):
            mint(secret, Role.center, "x", hours=hours)
