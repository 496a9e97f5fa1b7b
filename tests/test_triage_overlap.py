"""The triage's evaluation is honest: no request of the held-out evaluation set
(tests/data/triage_eval.toml) or of the development set (tests/data/triage_dev.toml) is a
near-duplicate of any training text — the seed corpus, the lists' example phrasings, the
knowledge base's articles, the emergency keywords. Near-duplicate: equal after normalisation,
or character 5-gram Jaccard similarity of 0.6 or more."""

import re
import tomllib
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest

from catalog.cities import CITIES_DIR, corpus_groups, load_lists

DATA = Path(__file__).parent / "data"
EVAL = DATA / "triage_eval.toml"
DEV = DATA / "triage_dev.toml"
CITY = "qingdao"
N = 5
THRESHOLD = 0.6


def normal(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def grams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + N] for i in range(len(text) - N + 1))


def training_texts() -> list[tuple[str, str]]:
    out = [(f"corpus:{g['path']}", t) for g in corpus_groups(CITY) for t in g.get("texts", [])]
    lists = load_lists(CITY)
    out += [(f"out_of_scope:{c.id}", t) for c in lists.out_of_scope for t in [*c.cases, *c.decisive]]
    out += [(f"legal:{c.id}", t) for c in lists.legal_channels for t in [*c.cases, *c.decisive]]
    out += [(f"emergency:{e.number}", k) for e in lists.emergencies for k in e.keywords]
    with (CITIES_DIR / CITY / "knowledge.toml").open("rb") as f:
        for a in tomllib.load(f).get("article", []):
            out += [(f"knowledge:{a['id']}", t) for t in (a["title"], a.get("question", ""), a["answer"]) if t]
            out.append((f"knowledge:{a['id']}", " ".join(a.get("keywords", []))))
    return out


def near_duplicates(requests: list[dict]) -> list[str]:
    train = [(src, normal(t)) for src, t in training_texts()]
    exact = defaultdict(list)
    index: dict[str, set[int]] = defaultdict(set)
    train_grams = []
    for i, (src, t) in enumerate(train):
        exact[t].append(src)
        g = grams(t)
        train_grams.append(g)
        for x in g:
            index[x].add(i)
    found = []
    for r in requests:
        text = normal(r["text"])
        if text in exact:
            found.append(f"{r.get('id')}: {r['text']!r} equals a training text ({exact[text][0]})")
            continue
        g = grams(text)
        for i in set().union(*(index.get(x, set()) for x in g)) if g else ():
            other = train_grams[i]
            jaccard = len(g & other) / len(g | other)
            if jaccard >= THRESHOLD:
                found.append(f"{r.get('id')}: {r['text']!r} ~ {train[i][0]} (5-gram Jaccard {jaccard:.2f})")
                break
    return found


def _load(path: Path) -> list[dict]:
    with path.open("rb") as f:
        return tomllib.load(f).get("request", [])


def test_the_check_finds_a_near_duplicate():
    corpus = next(t for g in corpus_groups(CITY) for t in g["texts"] if len(t) > 15)
    assert near_duplicates([{"id": "copy", "text": corpus + "。"}])
    assert near_duplicates([{"id": "edited", "text": corpus[:-1] + "啊"}])
    assert not near_duplicates([{"id": "new", "text": "这是一句与训练数据毫无关系的全新说法，谈的是月球上的事情"}])


def test_the_development_set_is_not_training_data():
    assert not near_duplicates(_load(DEV))


def test_the_evaluation_set_is_not_training_data():
    if not EVAL.is_file():
        pytest.skip(f"no held-out evaluation set at {EVAL.relative_to(DATA.parent.parent)}: nothing to check")
    requests = _load(EVAL)
    assert len(requests) >= 300, f"the evaluation set has {len(requests)} requests; at least 300 are needed"
    duplicates = near_duplicates(requests)
    assert not duplicates, "evaluation requests that repeat training data:\n" + "\n".join(duplicates)
