"""Payloads are sealed before they reach Temporal; plain ones from before encryption still open."""

import base64

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload

from core.codec import ENCODING, EncryptionCodec, PayloadKeyError, data_converter, new_key
from core.settings import Settings
from domain.ticket import Citizen

CITIZEN = Citizen(name="王秀英", phone="13800138000")


def settings_with(current: str, **keys: str) -> Settings:
    return Settings(payload_keys={k: SecretStr(v) for k, v in keys.items()}, payload_key_id=current)


async def test_a_sealed_payload_shows_no_citizen_and_opens_again():
    converter = data_converter(Settings())
    [sealed] = await converter.encode([CITIZEN])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata["encryption-key-id"] == b"dev"
    raw = sealed.SerializeToString()
    assert b"13800138000" not in raw and "王秀英".encode() not in raw
    assert await converter.decode([sealed], [Citizen]) == [CITIZEN]


async def test_a_plain_payload_from_before_encryption_passes_through():
    plain = Payload(metadata={"encoding": b"json/plain"}, data=CITIZEN.model_dump_json().encode())
    assert await data_converter(Settings()).decode([plain], [Citizen]) == [CITIZEN]


async def test_keys_rotate_old_payloads_still_open():
    old, new = new_key(), new_key()
    [sealed] = await data_converter(settings_with("2026", **{"2026": old})).encode([CITIZEN])
    rotated = data_converter(settings_with("2027", **{"2026": old, "2027": new}))
    assert await rotated.decode([sealed], [Citizen]) == [CITIZEN]
    [resealed] = await rotated.encode([CITIZEN])
    assert resealed.metadata["encryption-key-id"] == b"2027"
    with pytest.raises(PayloadKeyError, match="not in payload_keys"):
        await data_converter(settings_with("2027", **{"2027": new})).decode([sealed], [Citizen])


async def test_a_tampered_or_moved_payload_does_not_open():
    codec = EncryptionCodec.of(Settings())
    sealed = codec.seal(Payload(metadata={"encoding": b"json/plain"}, data=b'{"a": 1}'))
    flipped = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(PayloadKeyError):
        codec.open(flipped)


def test_keys_are_checked_when_the_settings_load():
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptionCodec.of(settings_with("k", k=base64.b64encode(b"short").decode()))
    with pytest.raises(ValueError, match="payload_key_id"):
        Settings(payload_keys={"k": SecretStr(new_key())})


async def test_every_converter_shares_one_pydantic_payload_converter():
    """The SDK builds a converter for every workflow activation: the pydantic part is built once
    per process, and a converter built later still converts (it is the same one)."""
    first, second = data_converter(Settings()), data_converter(Settings())
    assert first.payload_converter_class() is second.payload_converter_class()
    [sealed] = await first.encode([CITIZEN])
    assert await second.decode([sealed], [Citizen]) == [CITIZEN]
