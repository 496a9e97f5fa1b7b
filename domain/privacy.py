"""Masking and hashing of citizen identity: the read model, logs and public views never hold
a citizen's name or phone number in the clear."""

import hashlib
import re
from enum import StrEnum

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


class Audience(StrEnum):
    """Who looks at a ticket, as far as the citizen's identity goes. One viewer can be several
    (a unit both supervising and cooperating): the citizen is shown in clear if any one may."""

    handling_unit = "handling_unit"
    former_handling_unit = "former_handling_unit"
    cooperating_unit = "cooperating_unit"
    supervising_unit = "supervising_unit"
    consulted_unit = "consulted_unit"
    intake_desk = "intake_desk"
    intake_desk_after_intake = "intake_desk_after_intake"
    callback_desk = "callback_desk"
    supervisor = "supervisor"
    center = "center"  # type: ignore[assignment]  # shadows str.center
    leader = "leader"


# Who sees the citizen's name and phone in clear, and why: the default of a city
# (HOTLINE_CITIZEN_IN_CLEAR overrides the set). The README shows this table (tests/test_readme.py).
AUDIENCES: dict[Audience, tuple[str, bool, str]] = {
    Audience.handling_unit: (
        "the lead unit (or the coordinator after escalation) while the ticket is open", True,
        "it must call the citizen back and go to the place"),
    Audience.former_handling_unit: (
        "a unit that led the ticket, once it is closed or moved on", False, "its work is done"),
    Audience.cooperating_unit: (
        "a cooperating unit (协办, summoned by 吹哨)", False, "it reports its part to the lead, not to the citizen"),
    Audience.supervising_unit: (
        "the ticket's sector supervising department (行业主管部门)", False, "it urges and checks, it does not call"),
    Audience.consulted_unit: (
        "a unit invited to a consultation (会商)", False, "it decides who is responsible, not the case itself"),
    Audience.intake_desk: (
        "the intake desk while the ticket is at intake", True, "it is on the call with the citizen"),
    Audience.intake_desk_after_intake: (
        "the intake desk after intake", False, "the call is over; the desk needs the case, not the caller"),
    Audience.callback_desk: (
        "the callback desk (intake or center staff) while the ticket waits for its callback", True,
        "it calls the citizen (回访)"),
    Audience.supervisor: ("center supervisors", False, "they oversee deadlines and units"),
    Audience.center: ("center staff", True, "they answer for the ticket to the citizen and review returns"),
    Audience.leader: ("center leaders", False, "they rule on responsibility, not on the caller"),
}  # fmt: skip

DEFAULT_IN_CLEAR = frozenset(a for a, (_, clear, _) in AUDIENCES.items() if clear)


def audience_table() -> str:
    """The matrix as the README shows it."""
    rows = ["| who | name and phone | why |", "|---|---|---|"]
    for audience, (who, clear, why) in AUDIENCES.items():
        rows.append(f"| {who} (`{audience.value}`) | {'in clear' if clear else 'masked'} | {why} |")
    return "\n".join(rows)
