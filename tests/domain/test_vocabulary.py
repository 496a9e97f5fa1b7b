"""The glossary as enumerations (domain/vocabulary.py)."""

from domain.vocabulary import Stage, Tier


def test_the_tiers_are_street_district_city():
    assert [t.value for t in Tier] == ["street", "district", "city"]


def test_stages_are_the_strings_of_the_ticket_status_search_attribute():
    assert [s.value for s in Stage] == ["intake", "follow_up", "dispatch", "handling", "rehandle", "callback", "closed"]
    assert Stage("follow_up") is Stage.follow_up and Stage.closed == "closed"
