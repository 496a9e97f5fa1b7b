"""The held-out triage evaluation set (tests/data/triage_eval.toml) is well-formed.

The set measures smart intake; a typo in a label would silently skew the measured accuracy, so every
label is checked against the city's own label files (responsibilities.toml, units.toml).
"""

import tomllib
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILE = ROOT / "tests" / "data" / "triage_eval.toml"
CITY = ROOT / "catalog" / "cities" / "qingdao"

PATHS = {
    "dispatch",
    "direct_answer",
    "out_of_scope",
    "legal_channel",
    "emergency_transfer",
}
EMERGENCY_LINES = {"110", "119", "120", "122"}
KINDS = {"consultation", "help", "complaint", "report", "suggestion", "praise"}
MIN_PER_PATH = {
    "dispatch": 140,
    "direct_answer": 45,
    "out_of_scope": 35,
    "legal_channel": 35,
    "emergency_transfer": 45,
}
FIELDS = {"id", "text", "address", "path", "category", "district", "street", "kind"}
OPTIONAL_FIELDS = {"emergency", "hard_negative"}


def _load(path: Path) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def data() -> dict:
    return _load(EVAL_FILE)


@pytest.fixture(scope="module")
def requests(data: dict) -> list[dict]:
    return data["request"]


@pytest.fixture(scope="module")
def category_ids() -> set[str]:
    return {c["id"] for c in _load(CITY / "responsibilities.toml")["category"]}


@pytest.fixture(scope="module")
def units() -> dict[str, dict]:
    return {u["id"]: u for u in _load(CITY / "units.toml")["unit"]}


def test_has_enough_requests_with_unique_ids_and_texts(requests: list[dict]) -> None:
    assert len(requests) >= 300
    ids = Counter(r["id"] for r in requests)
    texts = Counter(r["text"] for r in requests)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [t for t, n in texts.items() if n > 1] == []
    assert all(r["text"].strip() for r in requests)


def test_every_request_has_exactly_the_known_fields(requests: list[dict]) -> None:
    for r in requests:
        keys = set(r)
        assert FIELDS <= keys, (r["id"], FIELDS - keys)
        assert keys <= FIELDS | OPTIONAL_FIELDS, (
            r["id"],
            keys - FIELDS - OPTIONAL_FIELDS,
        )


def test_path_emergency_and_kind_values_are_valid(requests: list[dict]) -> None:
    for r in requests:
        assert r["path"] in PATHS, r["id"]
        assert r["kind"] in KINDS, r["id"]
        if r["path"] == "emergency_transfer":
            assert r.get("emergency") in EMERGENCY_LINES, r["id"]
        else:
            assert "emergency" not in r, r["id"]
        assert isinstance(r.get("hard_negative", False), bool), r["id"]


def test_categories_exist_in_the_responsibility_list(requests: list[dict], category_ids: set[str]) -> None:
    for r in requests:
        if r["path"] == "dispatch":
            assert r["category"] in category_ids, (r["id"], r["category"])
        elif r["path"] == "direct_answer":
            assert r["category"] == "" or r["category"] in category_ids, (
                r["id"],
                r["category"],
            )
        else:
            assert r["category"] == "", r["id"]


def test_districts_and_streets_exist_and_streets_lie_in_their_district(
    requests: list[dict], units: dict[str, dict]
) -> None:
    for r in requests:
        district, street = r["district"], r["street"]
        if district:
            assert district in units, (r["id"], district)
            assert units[district]["tier"] == "district", (r["id"], district)
            assert r["address"], (r["id"], "district label without an address")
        if street:
            assert district, (r["id"], "street without district")
            assert street in units, (r["id"], street)
            assert units[street]["tier"] == "street", (r["id"], street)
            assert units[street]["parent"] == district, (r["id"], street, district)


def test_each_path_has_its_minimum_count(requests: list[dict]) -> None:
    per_path = Counter(r["path"] for r in requests)
    for path, minimum in MIN_PER_PATH.items():
        assert per_path[path] >= minimum, (path, per_path[path], minimum)
    assert sum(1 for r in requests if r.get("hard_negative")) >= 20


def test_every_category_appears_at_least_twice_among_dispatches(requests: list[dict], category_ids: set[str]) -> None:
    per_category = Counter(r["category"] for r in requests if r["path"] == "dispatch")
    assert {c: per_category[c] for c in category_ids if per_category[c] < 2} == {}


def test_meta_counts_match_the_requests(data: dict, requests: list[dict]) -> None:
    meta = data["meta"]
    assert meta["total"] == len(requests)
    assert meta["paths"] == dict(Counter(r["path"] for r in requests))
    assert meta["hard_negatives"] == sum(1 for r in requests if r.get("hard_negative"))
    assert meta["emergency"] == dict(Counter(r["emergency"] for r in requests if "emergency" in r))
    assert meta["kinds"] == dict(Counter(r["kind"] for r in requests))
    assert meta["dispatch_categories"] == dict(Counter(r["category"] for r in requests if r["path"] == "dispatch"))
