"""Chinese text matching for triage: jieba segments, BM25 (rank-bm25) ranks, and coverage
measures say how much of a candidate the request actually contains — by words, and by character
bigrams beside them, so a paraphrase or a typo that jieba cuts differently still counts
("身分证" / "身份证", "拿着菜刀" / "拿刀").

Texts are normalised first (full-width to half-width, case, spaces) and the city's synonym data
(catalog/cities/<city>/synonyms.toml) maps variants to one spelling on both sides.

Used to find the knowledge-base article that answers a consultation and the out-of-scope case or
legal channel a request resembles. Deterministic for a given index; built once per data version."""

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import jieba
from rank_bm25 import BM25Okapi

jieba.setLogLevel(logging.WARNING)

# Function words and courtesy phrases that say nothing about the matter itself.
STOPWORDS = frozenset(
    """
    我 我们 你 你们 他 他们 她 它 的 了 着 过 在 是 有 和 与 及 或 就 都 也 还 又 很 太 吗 呢 吧 啊 呀 哦 嗯
    请问 请 问 问下 问一下 一下 想 想问 想要 要 能 能否 可以 可不可以 怎么 怎么办 怎样 如何 什么 哪里 哪儿 哪个
    这个 那个 哪些 这 那 这里 那里 现在 已经 一直 还是 但是 因为 所以 如果 然后 没有 不 没 给 把 被 让 对 跟
    您好 你好 谢谢 麻烦 帮忙 帮 反映 反应 情况 问题 事情 事 需要 一个 一些 有没有 是不是 到底 多少
    """.split()
)


_NOT_TEXT = re.compile(r"[\s\u3000]+")
_PUNCT = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Synonyms:
    """Variant -> canonical spelling, applied longest variant first (a city's synonyms.toml)."""

    pairs: tuple[tuple[str, str], ...] = ()
    _pattern: re.Pattern | None = field(default=None, compare=False, hash=False, repr=False)

    @classmethod
    def of(cls, groups: dict[str, list[str]]) -> "Synonyms":
        # The canonical word maps to itself, so a variant inside it ("公交" in "公交车") is left alone.
        pairs = {v.lower(): c.lower() for c, variants in groups.items() for v in [*variants, c] if v}
        return cls(tuple(sorted(pairs.items(), key=lambda p: (-len(p[0]), p[0]))))

    def apply(self, text: str) -> str:
        if not self.pairs:
            return text
        pattern = self._pattern
        if pattern is None:
            pattern = re.compile("|".join(re.escape(v) for v, _ in self.pairs))
            object.__setattr__(self, "_pattern", pattern)
        table = dict(self.pairs)
        return pattern.sub(lambda m: table[m.group(0)], text)

    def __bool__(self) -> bool:
        return bool(self.pairs)


NO_SYNONYMS = Synonyms()


def normalize(text: str, synonyms: Synonyms = NO_SYNONYMS) -> str:
    """One spelling for matching: NFKC (full-width letters, digits and punctuation to half-width),
    lower case, runs of spaces as one, the city's variants replaced by their canonical word."""
    text = _NOT_TEXT.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()
    return synonyms.apply(text)


def char_ngrams(text: str, n: int = 2) -> set[str]:
    """Character n-grams of the text's runs of letters and digits (punctuation splits runs)."""
    out: set[str] = set()
    for run in _PUNCT.split(text):
        run = run.replace("_", "")
        out.update(run[i : i + n] for i in range(len(run) - n + 1))
    return out


def terms(text: str) -> list[str]:
    """The meaningful words of a text: jieba's search segmentation minus stopwords, punctuation and
    single characters (a single Chinese character rarely carries the matter on its own)."""
    out = []
    for word in jieba.cut_for_search(text):
        word = word.strip().lower()
        if len(word) < 2 or word in STOPWORDS or not any(ch.isalnum() for ch in word):
            continue
        out.append(word)
    return out


@dataclass(frozen=True)
class Hit:
    key: str
    score: float  # BM25, for ranking among candidates
    coverage: float  # share of the candidate's words (units) found in the query (0..1)
    matched: tuple[str, ...]  # the candidate's words (units) the query contains, whole or in part
    char_coverage: float = 0.0  # share of the candidate's character bigrams found in the query
    query_coverage: float = 0.0  # share of the query's words the candidate contains

    @property
    def similarity(self) -> float:
        """How much of the candidate the request says, by words or, for a paraphrase, by characters."""
        return max(self.coverage, self.char_coverage)


def units(words: list[str]) -> dict[str, frozenset[str]]:
    """The document's words with jieba's sub-words folded into the longest word containing them
    (公积 and 积金 are parts of 公积金): each unit counts once towards coverage."""
    distinct = sorted(set(words), key=len, reverse=True)
    out: dict[str, set[str]] = {}
    for w in distinct:
        parent = next((u for u in out if w in u), None)
        if parent is None:
            out[w] = {w}
        else:
            out[parent].add(w)
    return {u: frozenset(parts) for u, parts in out.items()}


class TextIndex:
    """An index over (key, text) documents; one key may have several texts (example phrasings),
    and a search returns each key once, with its best text."""

    def __init__(self, documents: list[tuple[str, str]], synonyms: Synonyms = NO_SYNONYMS):
        self.synonyms = synonyms
        self.keys = [k for k, _ in documents]
        texts = [normalize(t, synonyms) for _, t in documents]
        self.docs = [terms(t) for t in texts]
        self.units = [units(d) for d in self.docs]
        self.grams = [char_ngrams(_content(t)) for t in texts]
        self._by_gram: dict[str, list[int]] = {}
        for i, grams in enumerate(self.grams):
            for g in grams:
                self._by_gram.setdefault(g, []).append(i)
        self._words = [{w for parts in u.values() for w in parts} for u in self.units]
        self._bm25 = BM25Okapi([d or ["∅"] for d in self.docs]) if documents else None

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        if self._bm25 is None:
            return []
        text = normalize(query, self.synonyms)
        q = terms(text)
        qgrams = char_ngrams(_content(text))
        if not q and not qgrams:
            return []
        qset = set(q)
        best: dict[str, Hit] = {}
        scores = self._bm25.get_scores(q) if q else [0.0] * len(self.keys)
        shared_grams = Counter(i for g in qgrams for i in self._by_gram.get(g, ()))
        candidates = {i for i, n in shared_grams.items() if n >= 2} | {i for i, sc in enumerate(scores) if sc > 0}
        for i in sorted(candidates):
            score = scores[i]
            doc_units, grams = self.units[i], self.grams[i]
            matched = tuple(sorted(u for u, parts in doc_units.items() if parts & qset))
            shared = shared_grams.get(i, 0)
            if not matched and shared < 2:
                continue
            doc_words = self._words[i]
            hit = Hit(
                self.keys[i], float(score), len(matched) / max(len(doc_units), 1), matched,
                char_coverage=shared / len(grams) if grams else 0.0,
                query_coverage=sum(1 for w in qset if w in doc_words) / len(qset) if qset else 0.0,
            )  # fmt: skip
            key = self.keys[i]
            if key not in best or (hit.similarity, hit.score) > (best[key].similarity, best[key].score):
                best[key] = hit
        return sorted(best.values(), key=lambda h: (h.score, h.similarity), reverse=True)[:limit]


def _content(text: str) -> str:
    """The text without its courtesy and function words, for character matching."""
    for word in _COURTESY:
        text = text.replace(word, " ")
    return text


# Phrases removed before character matching (they would match every request).
_COURTESY = sorted(
    "您好 你好 请问 谢谢 麻烦 帮忙 一下 问问 我想 我们 你们 他们 怎么办 怎么 什么 为什么 可以 能不能 是不是 有没有 "
    "这个 那个 现在 已经 一直 还是 但是 因为 所以 如果 然后 没有 反映 情况 问题 事情 需要 一个 一些 到底 多少".split(),
    key=len,
    reverse=True,
)


@lru_cache(maxsize=16)
def cached_index(documents: tuple[tuple[str, str], ...], synonyms: Synonyms = NO_SYNONYMS) -> TextIndex:
    return TextIndex(list(documents), synonyms)
