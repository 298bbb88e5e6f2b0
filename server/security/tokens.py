"""Access tokens (JWT, HS256 via pyjwt) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from server.domain.errors import Unauthenticated
from server.domain.models import Principal, Role, User

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "role", "iat", "exp", "jti"]
LEEWAY_SECONDS = 10
# Verified tokens, so that a token used for many calls is checked by pyjwt once: the same bytes
# always verify the same way, and expiry is still checked on every hit. Revocation is not a
# property of the bytes and is checked elsewhere.
VERIFIED_CACHE_SIZE = 10_000


class JwtTokenService:
    def __init__(self, *, secret: bytes, issuer: str, audience: str, access_ttl: timedelta) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._access_ttl = access_ttl
        self._verified: dict[str, Principal] = {}

    def issue_access(self, user: User, now: datetime,
                     session_id: uuid.UUID | None = None) -> tuple[str, datetime]:
        expires = now + self._access_ttl
        claims: dict[str, object] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user.id),
            "email": user.email,
            "role": user.role.value,
            "company_id": str(user.company_id) if user.company_id else None,
            "department_id": str(user.department_id) if user.department_id else None,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
            "sid": str(session_id) if session_id else None,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires

    def verify_access(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            if cached.expires_at.timestamp() + LEEWAY_SECONDS <= time.time():
                del self._verified[token]
                raise Unauthenticated("access token expired", reason="TOKEN_EXPIRED")
            return cached
        principal = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # oldest first
        self._verified[token] = principal
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("access token expired", reason="TOKEN_EXPIRED") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated("access token has the wrong audience",
                                  reason="TOKEN_INVALID") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("access token is invalid", reason="TOKEN_INVALID") from exc
        try:
            return Principal(
                user_id=uuid.UUID(claims["sub"]),
                email=str(claims.get("email") or ""),
                role=Role(claims["role"]),
                company_id=_opt_uuid(claims.get("company_id")),
                department_id=_opt_uuid(claims.get("department_id")),
                token_id=str(claims["jti"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
                session_id=_opt_uuid(claims.get("sid")),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise Unauthenticated("access token is invalid", reason="TOKEN_INVALID") from exc

    def new_refresh_token(self) -> tuple[str, bytes]:
        token = secrets.token_urlsafe(32)
        return token, self.hash_refresh_token(token)

    def hash_refresh_token(self, token: str) -> bytes:
        # A 256-bit random token needs no slow hash: SHA-256 keeps lookups indexable.
        return hashlib.sha256(token.encode()).digest()


def _opt_uuid(value: object) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None
