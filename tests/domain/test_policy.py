from pathlib import Path

import pytest

from domain.policy import ClockName, ClockRule, Limit, PolicyPack
from catalog.policies import load_pack
from domain.vocabulary import Kind, Urgency


@pytest.mark.parametrize("name", ["beijing", "qingdao", "jinan", "sichuan"])
def test_every_shipped_pack_loads_and_names_its_version(name):
    pack = load_pack(name)
    assert pack.name == name and pack.version and len(pack.digest) == 12


def test_beijing_four_levels():
    pack = load_pack("beijing")
    limits = [str(pack.completion_limit(u, Kind.complaint, False)) for u in Urgency]
    assert limits == ["2h", "24h", "7d", "15d"]


def test_qingdao_enterprise_2115_but_an_emergency_stays_an_emergency():
    pack = load_pack("qingdao")
    assert str(pack.completion_limit(Urgency.normal, Kind.complaint, True)) == "15wd"
    assert str(pack.completion_limit(Urgency.emergency, Kind.complaint, True)) == "2h"
    contact = pack.clocks["contact"]
    assert str(contact.limit_for(Urgency.normal, Kind.complaint, True)) == "2h"
    feedback = pack.clocks["first_feedback"]
    assert str(feedback.limit_for(Urgency.normal, Kind.help, True)) == "1wd"
    assert feedback.limit_for(Urgency.normal, Kind.help, False) is None  # enterprise only


def test_sichuan_counts_by_kind_in_working_days():
    pack = load_pack("sichuan")
    assert [str(pack.completion_limit(Urgency.normal, k, False)) for k in (Kind.consultation, Kind.help, Kind.complaint)] == ["3wd", "7wd", "15wd"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('name = "bad"\nversion = "1"\ntitle = "x"\n[clocks.completion]\nby_urgency = { normal = "7d" }\n', "no limit for: emergency"),
        ('name = "bad"\nversion = "1"\ntitle = "x"\n[clocks.completion]\nby_urgency = { emergency = "2 hours", urgent = "1d", normal = "7d", complex = "15d" }\n', "is not a time limit"),
        ('name = "other"\nversion = "1"\ntitle = "x"\n[clocks.completion]\nby_urgency = { emergency = "2h", urgent = "1d", normal = "7d", complex = "15d" }\n', "file name must match"),
        ('name = "bad"\nversion = "1"\n[clocks.completion\n', "bad.toml"),
    ],
)
def test_a_broken_pack_is_refused_with_a_clear_reason(tmp_path: Path, text, problem):
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ValueError) as err:
        load_pack("bad", tmp_path)
    assert problem in str(err.value)


def test_unknown_pack_lists_the_known_ones():
    with pytest.raises(ValueError, match="available: beijing"):
        load_pack("atlantis")


def test_limit_round_trip():
    assert str(Limit.model_validate("5wd")) == "5wd"
    assert Limit.model_validate("90m").seconds() == 5400


@pytest.mark.parametrize(("text", "seconds", "words"), [("90s", 90, "90秒"), ("30m", 1800, "30分钟"), ("2h", 7200, "2小时"),
                                                        ("7d", 604800, "7天"), (" 5 wd ", 432000, "5个工作日")])  # fmt: skip
def test_a_limit_is_read_as_written_and_told_to_the_citizen_in_words(text, seconds, words):
    limit = Limit.model_validate(text)
    assert limit.seconds() == seconds and limit.in_words() == words
    assert limit.working_days is text.strip().endswith("wd")


def test_the_most_specific_clock_rule_wins():
    rule = ClockRule(by_urgency={Urgency.emergency: "2h", Urgency.normal: "7d"}, by_kind={Kind.consultation: "3d"},
                     enterprise="5d")  # fmt: skip
    assert str(rule.limit_for(Urgency.emergency, Kind.consultation, True)) == "2h"  # an emergency stays one
    assert str(rule.limit_for(Urgency.normal, Kind.consultation, True)) == "5d"  # then the enterprise standard
    assert str(rule.limit_for(Urgency.normal, Kind.consultation, False)) == "3d"  # then the kind
    assert str(rule.limit_for(Urgency.normal, Kind.complaint, False)) == "7d"  # then the urgency
    assert rule.limit_for(Urgency.complex, Kind.complaint, False) is None


def test_a_units_report_clock_follows_the_whistle_rule_and_is_not_set_under_clocks():
    pack = load_pack("qingdao")
    assert pack.rule_for(ClockName.report).on_breach == pack.whistle.on_breach
    raw = pack.model_dump(mode="json")
    raw["clocks"]["report"] = raw["clocks"]["completion"]
    with pytest.raises(ValueError, match="set under \\[whistle\\]"):
        PolicyPack.model_validate(raw)
