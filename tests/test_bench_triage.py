"""`hotline bench-triage` on the development set: the figures it prints, and a guard that the
triage keeps the targets there (the held-out evaluation set is the real measure)."""

from pathlib import Path

from hotline.bench_triage import main

DEV = Path(__file__).parent / "data" / "triage_dev.toml"


def test_bench_triage_prints_every_figure_and_the_dev_set_meets_the_targets(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    assert main(DEV) == 0
    out = capsys.readouterr().out
    for line in ("path accuracy", "confusion", "emergency recall", "false alarms", "category top-1",
                 "category top-3", "street", "lead unit", "latency p50 / p99"):  # fmt: skip
        assert line in out
    figures = {line.split()[0] + " " + line.split()[1]: line.split()[2] for line in out.splitlines() if "%" in line}
    assert float(figures["path accuracy"]) >= 90
    assert float(figures["emergency recall"]) >= 98
    assert float(figures["false alarms"]) <= 2
    assert float(figures["category top-3"]) >= 95


def test_bench_triage_says_when_there_is_no_set(capsys, tmp_path):
    assert main(tmp_path / "nothing.toml") == 2
    assert "no evaluation set" in capsys.readouterr().out
