"""The fake's data lake: the storage accounts behind stage 4's datastores, through Azure Blob
Storage's blob API (which ADLS Gen2 accounts answer too), signed in with a bearer token for Azure
Storage's audience as the product's upload is (never a SAS). Blobs are kept per account, container
and path in `fake.lake`; faults injected with `fake.inject` match "/<account>/<container>/<path>".
"""

from __future__ import annotations

import re
from typing import Any

from .credential import decode_token
from .tls import STORAGE_DOMAIN

STORAGE_AUDIENCE = "https://storage.azure.com"
HOST = re.compile(rf"(?P<account>[a-z0-9]{{3,24}})\.(?:blob|dfs)\.{re.escape(STORAGE_DOMAIN)}(?::\d+)?")


def lake_account(headers: Any) -> str | None:
    """The storage account a request is for, by its host name (<account>.blob.<domain>)."""
    m = HOST.fullmatch(str(headers.get("Host") or "").lower())
    return m["account"] if m else None


def _storage_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """Azure Storage's error shape: XML body, the code also in x-ms-error-code (what the SDK reads)."""
    body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return status, {"x-ms-error-code": code, "Content-Type": "application/xml"}, body.encode()


def handle_lake(fake: Any, method: str, account: str, path: str, headers: Any,
                body: bytes) -> tuple[int, dict[str, str], Any]:
    auth = str(headers.get("Authorization") or "")
    claims = decode_token(auth[7:]) if auth.startswith("Bearer ") else None
    if claims is None:
        return _storage_error(401, "NoAuthenticationInformation", "a bearer token for Azure Storage is required")
    if claims.get("aud", "").rstrip("/") != STORAGE_AUDIENCE:
        return _storage_error(401, "InvalidAuthenticationInfo", f"the token is for {claims.get('aud')!r}")
    parts = path.lstrip("/").split("/", 1)
    if len(parts) != 2 or not parts[1]:
        return _storage_error(400, "InvalidUri", f"{path}: a blob path is /<container>/<name>")
    key = f"{account}/{parts[0]}/{parts[1]}"
    injected = fake.injected(method, f"/{key}")
    if injected is not None:
        return _storage_error(injected.status, injected.code, injected.message)
    stamp = {"ETag": '"0x8D0000000000002"', "Last-Modified": "Sun, 29 Nov 2026 08:00:00 GMT",
             "x-ms-version": "2025-01-05"}
    with fake.lock:
        if method == "PUT":
            if headers.get("x-ms-blob-type") != "BlockBlob":
                return _storage_error(400, "InvalidHeaderValue", "x-ms-blob-type must be BlockBlob")
            if headers.get("If-None-Match") == "*" and key in fake.lake:
                return _storage_error(409, "BlobAlreadyExists", "The specified blob already exists.")
            fake.lake[key] = body
            return 201, {**stamp, "x-ms-request-server-encrypted": "true"}, None
        if method in ("GET", "HEAD"):
            data = fake.lake.get(key)
            if data is None:
                return _storage_error(404, "BlobNotFound", "The specified blob does not exist.")
            return 200, {**stamp, "x-ms-blob-type": "BlockBlob", "Content-Length": str(len(data)),
                         "Content-Type": "application/octet-stream"}, (b"" if method == "HEAD" else data)
    return _storage_error(405, "UnsupportedHttpVerb", f"{method} on a blob")
