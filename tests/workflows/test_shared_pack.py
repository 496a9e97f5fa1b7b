"""The tickets a worker holds share one copy of an equal policy pack (fewer objects for every
garbage collection to walk); a pack that differs keeps its own."""

from catalog.policies import load_pack
from core.settings import Settings
from workflows import context
from workflows.context import shared_pack


def _pack(name: str):
    return load_pack(name, Settings().policy_dir)


def test_equal_packs_are_one_object_and_a_different_pack_its_own(monkeypatch):
    monkeypatch.setattr(context, "_PACKS", {})
    first, again = _pack("qingdao"), _pack("qingdao")
    assert first is not again and first == again
    assert shared_pack(first) is first and shared_pack(again) is first
    edited = again.model_copy(update={"version": again.version + "-edited"})
    assert shared_pack(edited) is edited and shared_pack(first) is first


def test_past_the_cap_a_pack_is_not_shared_but_still_used(monkeypatch):
    monkeypatch.setattr(context, "_PACKS", {})
    monkeypatch.setattr(context, "_PACKS_AT_MOST", 0)
    pack = _pack("qingdao")
    assert shared_pack(pack) is pack and context._PACKS == {}
