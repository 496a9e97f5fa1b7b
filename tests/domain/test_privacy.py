"""Masking and hashing of citizen identity (domain/privacy.py): what the read model, logs and
public views hold instead of a name and a phone number."""

import pytest

from domain.privacy import mask_name, mask_phone, normalize_phone, phone_hash, scrub_phones


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        ("138-0013-8000", "138****8000"),
        ("0532-88881234", "053****1234"),
        ("12345", "*****"),  # too short to show any digit of
        ("", ""),
        (None, None),
    ],
)
def test_a_phone_shows_only_its_first_three_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(("name", "masked"), [("王小明", "王**"), ("欧阳娜娜", "欧***"), ("王", "王*"), ("", "")])
def test_a_name_keeps_its_surname_only(name, masked):
    assert mask_name(name) == masked


def test_the_same_number_written_differently_is_one_number():
    assert normalize_phone("+86 138-0013-8000") == normalize_phone("8613800138000") == "13800138000"
    assert normalize_phone("0532 8888 1234") == "053288881234"


def test_a_phone_hash_finds_the_citizen_without_holding_the_number():
    key = phone_hash("13800138000", "salt")
    assert key == phone_hash("+86 138 0013 8000", "salt")  # the same citizen, however the desk typed it
    assert key != phone_hash("13800138001", "salt")
    assert key != phone_hash("13800138000", "another-city")
    assert "13800138000" not in key and len(key) == 64
    assert phone_hash(None, "salt") is None and phone_hash("", "salt") is None


def test_phone_numbers_in_a_departments_message_are_scrubbed_and_other_numbers_kept():
    text = "联系人13800138000（+8613900139000）座机0532-88881234无人接听，工单20261122000001，编号138001380001"
    scrubbed = scrub_phones(text)
    assert scrubbed == "联系人***（***）座机***无人接听，工单20261122000001，编号138001380001"
