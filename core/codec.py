"""Citizen data encrypted in Temporal: every payload the API, the worker, the CLI and the tests
hand to Temporal (workflow inputs, update arguments and results, activity inputs, query answers,
memo) is sealed with AES-256-GCM before it leaves the process, so Temporal's database, its
history exports and its Web UI hold no phone number or name in the clear.

A sealed payload is marked `encoding: binary/encrypted` and names its key (`encryption-key-id`),
so keys rotate: new payloads use `payload_key_id`, older ones still open with any key that stays
listed in `payload_keys`. A payload without the marker — history recorded before encryption was
turned on, an open ticket started then — is passed through unchanged: old tickets keep working and
the committed replay histories still replay."""

import base64
import dataclasses
import hashlib
import os
from collections.abc import Sequence
from typing import ClassVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

from core.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
DEV_KEY_ID = "dev"


class PayloadKeyError(Exception):
    """A sealed payload names a key this process does not have, or does not open with it."""


def dev_key() -> bytes:
    """The development key (empty `payload_keys`): public by construction, like the other dev-only
    secrets; production sets its own."""
    return hashlib.sha256(b"hotline12345 dev-only payload key: change me in production").digest()


def new_key() -> str:
    """A fresh key, base64, for HOTLINE_PAYLOAD_KEYS."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def keys_of(settings: Settings) -> tuple[str, dict[str, bytes]]:
    """The current key id and every key by id, decoded and checked (32 bytes each)."""
    if not settings.payload_keys:
        return DEV_KEY_ID, {DEV_KEY_ID: dev_key()}
    keys = {}
    for key_id, secret in settings.payload_keys.items():
        try:
            raw = base64.b64decode(secret.get_secret_value(), validate=True)
        except ValueError as e:
            raise ValueError(f"payload key {key_id!r} is not base64") from e
        if len(raw) != 32:
            raise ValueError(f"payload key {key_id!r} must be 32 bytes (AES-256), not {len(raw)}")
        keys[key_id] = raw
    assert settings.payload_key_id is not None  # the settings' validator makes sure
    return settings.payload_key_id, keys


class EncryptionCodec(PayloadCodec):
    def __init__(self, current: str, keys: dict[str, bytes]):
        if current not in keys:
            raise ValueError(f"the current payload key {current!r} is not among the keys")
        self.current = current
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    @classmethod
    def of(cls, settings: Settings) -> "EncryptionCodec":
        return cls(*keys_of(settings))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        key_id = self.current.encode()
        # The key id is authenticated with the data: a payload cannot be moved to another key.
        sealed = self._ciphers[self.current].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was turned on: plain, as it was
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(f"payload sealed with key {key_id!r}, which is not in payload_keys")
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
        except Exception as e:  # InvalidTag: tampered, or another key under the same id
            raise PayloadKeyError(f"payload sealed with key {key_id!r} does not open with it") from e
        return Payload.FromString(plain)


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    """pydantic's payload converter, built once per process. The SDK builds one from the converter's
    class twice for every workflow activation (the converter that picks each command's context) and
    once for every workflow instance. Each build is only a few microseconds, but a lifecycle profile
    put 3.7 % of the worker's samples there, the garbage collections its allocations set off
    included. It holds only its options and a cache of type adapters (thread-safe), so one serves
    every use."""

    _one: ClassVar["SharedPydanticPayloadConverter | None"] = None

    def __new__(cls) -> "SharedPydanticPayloadConverter":
        if cls._one is None:
            one = super().__new__(cls)
            PydanticPayloadConverter.__init__(one)
            cls._one = one
        return cls._one

    def __init__(self) -> None:  # built in __new__, once
        pass


def data_converter(settings: Settings) -> DataConverter:
    """The product's converter: pydantic models to JSON, then sealed."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_converter_class=SharedPydanticPayloadConverter,
        payload_codec=EncryptionCodec.of(settings),
    )
