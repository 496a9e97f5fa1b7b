"""Workbench accounts and sessions, through the real app over HTTP: argon2 hashes, the lock after
repeated failures, session expiry, CSRF on every change, and the API accepting the session."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from api.main import create_app
from readmodel import db
from readmodel.tables import UserRow, WebSessionRow
from web import accounts


@pytest.fixture
async def http(settings):
    accounts.create_user(settings.database_url, "center1", "correct-horse", "center")
    accounts.create_user(settings.database_url, "unit1", "correct-horse", "unit", "qd.shinan.badaxia")
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        yield client


async def login(http, user: str, password: str) -> httpx.Response:
    await http.get("/login")
    return await http.post("/workbench/api/login", json={"username": user, "password": password},
                           headers={"X-CSRF-Token": http.cookies.get("hotline_csrf") or ""})  # fmt: skip


def test_passwords_are_kept_as_argon2_hashes(settings):
    accounts.create_user(settings.database_url, "someone", "a-long-password", "intake")
    with db.session(settings.database_url) as s:
        row = s.get(UserRow, "someone")
    assert row.password_hash.startswith("$argon2") and "a-long-password" not in row.password_hash
    with pytest.raises(accounts.AccountError, match="至少 8 位"):
        accounts.create_user(settings.database_url, "short", "1234567", "intake")
    with pytest.raises(accounts.AccountError, match="须指定单位"):
        accounts.create_user(settings.database_url, "nounit", "12345678", "unit")


async def test_sign_in_sets_an_httponly_session_and_the_api_accepts_it(http):
    assert (await http.get("/tickets")).status_code == 401
    r = await login(http, "center1", "correct-horse")
    assert r.status_code == 200 and r.json()["home"] == "/center"
    cookies = r.headers.get_list("set-cookie")
    assert any(c.startswith("hotline_session=") and "HttpOnly" in c and "SameSite=strict" in c for c in cookies)
    assert (await http.get("/tickets")).status_code == 200
    # A change without the session's CSRF token is refused; with it, it goes through.
    body = {"username": "new1", "password": "12345678", "role": "intake"}
    assert (await http.post("/workbench/api/users", json=body)).status_code == 403
    r = await http.post("/workbench/api/users", json=body, headers={"X-CSRF-Token": r.json()["csrf"]})
    assert r.status_code == 201
    # Signed out, the cookie opens nothing.
    csrf = http.cookies.get("hotline_csrf")
    assert (await http.post("/workbench/api/logout", headers={"X-CSRF-Token": csrf})).status_code == 204
    assert (await http.get("/tickets")).status_code == 401


async def test_sign_in_without_the_forms_token_is_refused(http):
    r = await http.post("/workbench/api/login", json={"username": "center1", "password": "correct-horse"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]


async def test_five_wrong_passwords_lock_the_account_until_unlocked(http, settings):
    for left in (4, 3, 2, 1):
        r = await login(http, "unit1", "wrong")
        assert r.status_code == 401 and f"再错 {left} 次" in r.json()["detail"]
    r = await login(http, "unit1", "wrong")
    assert "已锁定" in r.json()["detail"]
    r = await login(http, "unit1", "correct-horse")
    assert r.status_code == 401 and "已锁定" in r.json()["detail"]
    accounts.update_user(settings.database_url, "unit1", unlock=True)
    assert (await login(http, "unit1", "correct-horse")).status_code == 200


async def test_an_idle_session_ends(http, settings):
    assert (await login(http, "center1", "correct-horse")).status_code == 200
    with db.session(settings.database_url) as s:
        for row in s.exec(select(WebSessionRow)).all():
            row.last_seen_at = datetime.now(UTC) - accounts.IDLE - timedelta(minutes=1)
            s.add(row)
        s.commit()
    r = await http.get("/tickets")
    assert r.status_code == 401 and "过期" in r.json()["detail"]


async def test_a_unit_account_sees_its_own_pages_only(http):
    assert (await login(http, "unit1", "correct-horse")).json()["home"] == "/unit"
    assert (await http.get("/unit")).status_code == 200
    r = await http.get("/users", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/unit"
    assert (await http.get("/workbench/api/users")).status_code == 403
    r = await http.get("/workbench/api/worklist?unit=qd.shinan.other")
    assert r.status_code == 403
