from pathlib import Path

import pytest

from domain.policy import Limit
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
