"""The session cookie and its CSRF token, and what the API's auth dependency asks of them.

A signed-in browser sends `hotline_session` (HttpOnly, SameSite=Strict: scripts cannot read it
and other sites cannot send it). Every state-changing request made with it must also carry the
session's CSRF token in the `X-CSRF-Token` header (synchronizer token: the pages read it from the
`hotline_csrf` cookie, which only this origin's scripts can read). Before signing in, the sign-in
form is protected the same way with a pre-session token (double submit)."""

import hmac
import secrets

from fastapi import Request, Response

from api.errors import ApiError
from core.settings import Settings
from domain.ticket import Actor
from web import accounts

COOKIE = "hotline_session"
CSRF_COOKIE = "hotline_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_cookies(request: Request, response: Response, token: str, csrf: str) -> None:
    max_age = int(accounts.ABSOLUTE.total_seconds())
    secure = _secure(request)
    response.set_cookie(COOKIE, token, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure, path="/")


def clear_cookies(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def pre_session_csrf(request: Request, response: Response) -> str:
    """The sign-in page's token: the one the browser holds, or a new one set as a cookie."""
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="strict", secure=_secure(request), path="/")
    return token


def check_pre_session_csrf(request: Request, sent: str | None) -> None:
    held = request.cookies.get(CSRF_COOKIE)
    if not held or not sent or not hmac.compare_digest(held, sent):
        raise ApiError(403, "表单已过期或来源不明（CSRF），请刷新页面后重试")


def signed_in(request: Request, settings: Settings) -> accounts.SignedIn | None:
    token = request.cookies.get(COOKIE)
    return accounts.signed_in(settings.database_url, token) if token else None


def actor_from_cookie(request: Request, settings: Settings) -> Actor | None:
    """Called by api/deps.py when no Bearer token came: the session's actor, None without a cookie,
    401 for an ended session, 403 for a state-changing request without the session's CSRF token."""
    if not request.cookies.get(COOKIE):
        return None
    current = signed_in(request, settings)
    if current is None:
        raise ApiError(401, "登录已过期，请重新登录 (session expired: sign in again)")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, current.session.csrf):
            raise ApiError(403, "缺少或错误的 CSRF 令牌 (missing or wrong X-CSRF-Token)")
    return current.actor
