"""Refusals (domain/errors.py): the kind decides the HTTP status and the update failure's type,
the reason is what the caller reads."""

import pytest

from domain.errors import Refusal, RefusalKind, conflict, forbidden, invalid


@pytest.mark.parametrize(
    ("make", "kind", "name"),
    [(forbidden, RefusalKind.forbidden, "Forbidden"), (conflict, RefusalKind.conflict, "Conflict"),
     (invalid, RefusalKind.invalid, "Invalid")],
)  # fmt: skip
def test_each_refusal_carries_its_kind_and_the_reason(make, kind, name):
    r = make("ticket 1 is closed")
    assert isinstance(r, Refusal) and r.kind == kind and r.reason == "ticket 1 is closed"
    assert str(r) == "ticket 1 is closed"
    assert r.kind.value == name  # the type of the failed update the API maps to 403 / 409 / 422
