"""Roles as the README says, as a matrix: every route called with every identity, compared with
the one table (api/access.py) the README shows."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from api.access import ACCESS, IDENTITIES, NO_TOKEN, OPEN311_KEY, SESSION_ONLY, access_table
from tests.api.test_citizen_ends import _projected, _ticket
from tests.api.test_end_to_end import LEAD, fresh

OTHER = "qd.shinan.yunnanlu"
SECTOR = "qd.dept.urban"  # supervises urban.street_vendor, the category of fresh()
BAD_TOKENS = ("none", "garbage", "expired", "wrong_secret", "alg_none")

BODIES = {
    "/triage": {"description": "小区楼下烧烤摊占道经营", "kind": "complaint"},
    "/emergency-follow-up": {"handled": True, "note": "已处置"},
    "/progress": {"note": "已联系市民"},
    "/complete": {"result": "resolved", "reply": "已取缔占道烧烤摊"},
    "/whistle": {"units": ["市城管局"], "reason": "需要执法"},
    "/escalate": {"reason": "需要区级协调"},
    "/urge": {"note": "请尽快办理"},
    "/extension-request": {"by": "3d", "reason": "需要协调"},
    "/extension-decision": {"approve": False, "note": "不予延期"},
    "/return-request": {"reason": "不属于本单位职责"},
    "/return-decision": {"approve": False, "note": "维持原派"},
    "/return-dispute": {"reason": "仍不属于本单位"},
    "/consultation": {"reason": "职责不清", "candidates": [LEAD, SECTOR]},
    "/consultation/answer": {"answer": "decline", "reason": "不属于本单位"},
    "/ruling": {"reason": "属地负责", "lead": LEAD},
    "/report": {"report": "已配合"},
    "/callback": {"reached": False},
    "/lookup": {"phone": "13000000000"},
    "/rating": {"phone": "13000000000", "resolved": True, "satisfaction": "satisfied"},
    "/knowledge": {"id": "roles_test", "title": "测试条目", "answer": "测试答复"},
    "/knowledge/{article_id}": {"title": "测试条目二"},
    "/codec/decode": {"payloads": []},
    "/codec/encode": {"payloads": []},
    "/calendar/apply": None,
    "/exclusions": {"number": "Q-not-a-ticket", "reason": "unreasonable", "note": "经核查诉求不合理"},
    "/reports": {"kind": "daily"},
    "/focus/{month}": {"category": "urban.street_vendor", "title": "占道经营整治"},
    "/workbench/api/users": {"username": "roles_user", "password": "a-long-password", "role": "intake"},
    "/workbench/api/users/{username}": {"display_name": "角色测试"},
}


def headers(api, who: str) -> dict[str, str]:
    secret = api.settings.token_secret.get_secret_value()
    now = datetime.now(UTC)
    bad = {
        "none": None,
        "garbage": "garbage",
        "expired": jwt.encode(
            {"sub": "x", "role": "center", "iss": "hotline12345", "iat": now - timedelta(hours=2),
             "exp": now - timedelta(hours=1)}, secret, algorithm="HS256",
        ),
        "wrong_secret": jwt.encode(
            {"sub": "x", "role": "center", "iss": "hotline12345", "exp": now + timedelta(hours=1)},
            "another-secret-entirely-0123456789", algorithm="HS256",
        ),
        "alg_none": jwt.encode(
            {"sub": "x", "role": "center", "iss": "hotline12345", "exp": now + timedelta(hours=1)}, None,
            algorithm="none",
        ),
    }  # fmt: skip
    if who in bad:
        token = bad[who]
        return {"Authorization": f"Bearer {token}"} if token else {}
    role, unit = {"unit_a": ("unit", LEAD), "unit_b": ("unit", OTHER), "sector": ("unit", SECTOR)}.get(who, (who, None))
    return api.auth(role, unit)


def body_of(path: str):
    for suffix in sorted(BODIES, key=len, reverse=True):
        if path.endswith(suffix):
            return BODIES[suffix]
    return fresh() if path == "/tickets" else None


# Routes whose access has rules of their own, tested beside them: none now. The workbench's calls
# are in the table (a token like the rest; its session cookies are tested in tests/web/). Open311's
# api_key is in the table (every bearer identity is a 403 without it) and tested with a key in
# tests/api/test_open311.py; /metrics is outside the schema (a scrape, no token).
OWN_ACCESS_RULES: tuple[str, ...] = ()


async def test_every_route_with_every_identity_as_the_table_says(api):
    paths = (await api.http.get("/openapi.json")).json()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() for m in ops if not p.startswith(OWN_ACCESS_RULES)}
    assert routes == {(m, p) for m, p, _, _ in ACCESS}, "api/access.py must list every route, and only those"

    per_ticket = [p for _, p, _, _ in ACCESS if "{number}" in p]
    numbers = [(await _ticket(api, fresh())).json()["number"] for _ in per_ticket]
    await asyncio.gather(*(_projected(api, n, "dispatch") for n in numbers))
    ticket_of = dict(zip(per_ticket, numbers, strict=True))
    article = {"id": "roles_article", "title": "路灯不亮怎么办", "answer": "请拨打12345报修"}
    assert (await api.http.post("/knowledge", json=article, headers=api.auth("center"))).status_code == 201

    wrong: list[str] = []
    for method, path, who, note in ACCESS:
        url = path.replace("{number}", ticket_of.get(path, "")).replace("{article_id}", article["id"])
        url = url.replace("/queues/{name}", "/queues/returns").replace("{username}", "roles_user")
        url = url.replace("{unit_id}", LEAD).replace("{fmt}", "json").replace("{name}", "unknown.json")
        url = url.replace("{unit}", LEAD).replace("{report_id}", "999999").replace("{month}", "2026-11")
        params = {"q": "路灯"} if path.endswith("/search") else {"month": "2026-11"} if "clearing" in path else {}
        # Refused identities first: an allowed call may move the ticket on.
        for identity in (*BAD_TOKENS, *(i for i in IDENTITIES if i not in who), *who):
            r = await api.http.request(
                method, url, json=body_of(path), params=params, headers=headers(api, identity), timeout=60
            )
            if note == OPEN311_KEY:
                expected = "403"
            elif (identity in BAD_TOKENS and not note.startswith(NO_TOKEN)) or note == SESSION_ONLY:
                expected = "401"
            elif identity in who or identity in BAD_TOKENS:
                expected = "passes"
            else:
                expected = "403"
            got_through = r.status_code not in (401, 403)
            ok = got_through if expected == "passes" else str(r.status_code) == expected
            if not ok or r.status_code >= 500:
                wrong.append(f"{method} {path} as {identity}: {r.status_code} (expected {expected}) {r.text[:160]}")
    assert not wrong, "\n".join(wrong)


def test_the_readme_shows_the_table_the_test_calls():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert access_table() in readme, "README: paste api.access.access_table() under 'Who may call what'"
