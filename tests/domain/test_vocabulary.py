"""The glossary as enumerations (domain/vocabulary.py)."""

from domain.vocabulary import Stage, Tier


def test_a_tier_escalates_street_to_district_to_city_and_no_further():
    assert Tier.street.up() == Tier.district
    assert Tier.district.up() == Tier.city
    assert Tier.city.up() is None


def test_stages_are_the_strings_of_the_ticket_status_search_attribute():
    assert [s.value for s in Stage] == ["intake", "follow_up", "dispatch", "handling", "rehandle", "callback", "closed"]
    assert Stage("follow_up") is Stage.follow_up and Stage.closed == "closed"
