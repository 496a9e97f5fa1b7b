"""Chinese text matching for triage: jieba segments, BM25 (rank-bm25) ranks, and a coverage
measure says how much of a candidate's meaningful words the request actually contains.

Used to find the knowledge-base article that answers a consultation and the out-of-scope case or
legal channel a request resembles. Deterministic for a given index; built once per data version."""

import logging
from dataclasses import dataclass
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

    def __init__(self, documents: list[tuple[str, str]]):
        self.keys = [k for k, _ in documents]
        self.docs = [terms(t) for _, t in documents]
        self.units = [units(d) for d in self.docs]
        self._bm25 = BM25Okapi([d or ["∅"] for d in self.docs]) if documents else None

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        if self._bm25 is None:
            return []
        q = terms(query)
        if not q:
            return []
        qset = set(q)
        best: dict[str, Hit] = {}
        for i, score in enumerate(self._bm25.get_scores(q)):
            doc_units = self.units[i]
            matched = tuple(sorted(u for u, parts in doc_units.items() if parts & qset))
            if not matched:
                continue
            hit = Hit(self.keys[i], float(score), len(matched) / len(doc_units), matched)
            key = self.keys[i]
            if key not in best or (hit.coverage, hit.score) > (best[key].coverage, best[key].score):
                best[key] = hit
        return sorted(best.values(), key=lambda h: (h.score, h.coverage), reverse=True)[:limit]


@lru_cache(maxsize=16)
def cached_index(documents: tuple[tuple[str, str], ...]) -> TextIndex:
    return TextIndex(list(documents))
