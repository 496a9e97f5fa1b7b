"""Masking and hashing of citizen identity: the read model, logs and public views never hold
a citizen's name or phone number in the clear."""

import hashlib
import re

# Mainland mobile numbers and landlines with an area code, anywhere in a text.
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(\+?86)?1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str) -> str:
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def normalize_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def phone_hash(phone: str | None, salt: str) -> str | None:
    """A one-way key to find a citizen's tickets (merge, self-service) without storing the number."""
    if not phone:
        return None
    return hashlib.sha256(f"{salt}:{normalize_phone(phone)}".encode()).hexdigest()


def scrub_phones(text: str) -> str:
    """Text from outside (a department's error message) with any phone number in it masked."""
    return _PHONE_IN_TEXT.sub("***", text)
