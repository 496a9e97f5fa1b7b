"""Chinese text matching for triage (domain/intake/textsearch.py): the meaningful words of a text,
and an index that ranks candidates and says how much of each the request covers."""

import pytest

from domain.intake.textsearch import TextIndex, cached_index, terms, units


def test_segmentation_drops_courtesy_words_and_keeps_the_matter():
    words = terms("您好，我想问一下公积金怎么提取？谢谢")
    assert "公积金" in words and "提取" in words
    assert not {"您好", "谢谢", "一下", "怎么"} & set(words)


def test_punctuation_single_characters_and_case_say_nothing():
    words = terms("路灯！！坏了 WiFi")
    assert "路灯" in words and "wifi" in words
    assert all(len(w) >= 2 for w in words) and "！！" not in words


def test_sub_words_count_once_inside_the_longest_word():
    folded = units(["公积", "积金", "公积金", "提取"])
    assert folded == {"公积金": frozenset({"公积", "积金", "公积金"}), "提取": frozenset({"提取"})}


@pytest.fixture(scope="module")
def index() -> TextIndex:
    return TextIndex([
        ("fund", "住房公积金提取"),
        ("fund", "租房提取公积金需要什么材料"),  # a second phrasing of the same article
        ("dog", "养犬登记证办理"),
        ("light", "路灯不亮报修"),
    ])  # fmt: skip


def test_the_best_matching_key_comes_first_and_each_key_once(index):
    hits = index.search("请问租房能提取住房公积金吗")
    assert hits[0].key == "fund" and [h.key for h in hits].count("fund") == 1
    assert {"公积金", "提取"} <= set(hits[0].matched)
    assert 0 < hits[0].coverage <= 1


def test_coverage_is_the_share_of_the_candidates_words_the_request_contains(index):
    [hit] = index.search("养犬登记证办理")
    assert hit.key == "dog" and hit.coverage == 1.0
    [partial] = index.search("养犬的事情")
    assert partial.key == "dog" and 0 < partial.coverage < 1


def test_nothing_in_common_no_words_or_no_documents_is_no_hit(index):
    assert index.search("出租车拒载") == []
    assert index.search("您好，谢谢") == []  # only courtesy words
    assert TextIndex([]).search("公积金") == []


def test_a_search_returns_at_most_the_limit(index):
    assert len(index.search("公积金 养犬 路灯", limit=2)) == 2


def test_an_index_is_built_once_per_document_set():
    docs = (("a", "路灯不亮"), ("b", "井盖丢失"))
    assert cached_index(docs) is cached_index(docs)
    assert cached_index(docs) is not cached_index(docs[:1])
