"""Bearer tokens (JWT, HS256) carrying a role and, for handling units, the unit id."""

from datetime import UTC, datetime, timedelta

import jwt
from pydantic import BaseModel, ValidationError

from domain.ticket import Actor
from domain.vocabulary import Role

ALGORITHM = "HS256"
ISSUER = "hotline12345"


class TokenError(Exception):
    pass


class Claims(BaseModel):
    sub: str
    role: Role
    unit: str | None = None


MAX_HOURS = 24 * 366  # a local or service token; anything longer is a mistake


def mint(secret: str, role: Role, user: str, unit: str | None = None, hours: float = 12) -> str:
    if role == Role.unit and not unit:
        raise ValueError("a unit token needs the unit id")
    if unit and role != Role.unit:
        raise ValueError(f"only a unit token names a unit (role {role.value} with unit {unit!r})")
    if not 0 < hours <= MAX_HOURS:
        raise ValueError(f"a token lives more than 0 and at most {MAX_HOURS} hours, not {hours:g}")
    now = datetime.now(UTC)
    claims = {"sub": user, "role": role.value, "iss": ISSUER, "iat": now, "exp": now + timedelta(hours=hours)}
    if unit:
        claims["unit"] = unit
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str) -> Actor:
    try:
        raw = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]})
        claims = Claims.model_validate(raw)
    except jwt.ExpiredSignatureError as e:
        raise TokenError("token expired") from e
    except (jwt.InvalidTokenError, ValidationError, ValueError) as e:
        # The same plain words for every bad token: no decoder's message, nothing about the secret.
        raise TokenError("invalid token") from e
    if claims.role == Role.unit and not claims.unit:
        raise TokenError("a unit token must name its unit")
    if claims.role == Role.citizen:
        raise TokenError("citizens use the self-service pages (ticket number and phone), not tokens")
    return Actor(role=claims.role, unit=claims.unit, user=claims.sub)
