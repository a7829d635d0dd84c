"""A credential issuing well-formed (unsigned-key, HS256-shaped) JWTs whose `aud` is the scope asked for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from azure.core.credentials import AccessToken

TENANT = "72f988bf-0000-4000-8000-000000000001"
OBJECT_ID = "0b1f0000-0000-4000-8000-00000000f00d"
_KEY = b"fake-azure-not-a-secret"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(audience: str, oid: str = OBJECT_ID, lifetime: int = 3600) -> tuple[str, int]:
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"aud": audience, "iss": f"https://sts.windows.net/{TENANT}/", "iat": now, "nbf": now,
              "exp": now + lifetime, "oid": oid, "tid": TENANT, "upn": "tester@contoso.example"}
    body = _b64(json.dumps(claims).encode())
    sig = _b64(hmac.new(_KEY, f"{header}.{body}".encode(), hashlib.sha256).digest())
    return f"{header}.{body}.{sig}", now + lifetime


def decode_token(token: str) -> dict | None:
    """The claims of a token this module issued, or None (bad shape or signature)."""
    try:
        header, body, sig = token.split(".")
        good = _b64(hmac.new(_KEY, f"{header}.{body}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(good, sig):
            return None
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, json.JSONDecodeError):
        return None


class FakeCredential:
    """Implements azure-core's TokenCredential protocol."""

    def __init__(self, oid: str = OBJECT_ID) -> None:
        self.oid = oid
        self.scopes_asked: list[str] = []

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        scope = scopes[0] if scopes else ""
        self.scopes_asked.append(scope)
        token, expires = make_token(scope.removesuffix("/.default").rstrip("/"), self.oid)
        return AccessToken(token, expires)

    def close(self) -> None:  # the protocol's context-manager side
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass
