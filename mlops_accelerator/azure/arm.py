"""Plain ARM REST calls (GET/POST/list) for the APIs no installed SDK wraps (name availability,
usages, permissions, budgets...). Errors become AzureCallError with Azure's own code and message."""

from __future__ import annotations

from typing import Any

API = {  # api-version per resource provider API the product calls
    "providers": "2021-04-01", "authorization": "2022-04-01", "ml": "2024-04-01", "storage": "2023-05-01",
    "keyvault": "2023-07-01", "acr": "2023-07-01", "consumption": "2023-05-01", "msi": "2023-01-31",
    "resources": "2021-04-01",
}


class AzureCallError(Exception):
    def __init__(self, method: str, url: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{method} {url.split('?')[0]} -> {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def call(client: Any, method: str, url: str, api: str, body: Any = None,
         params: dict[str, str] | None = None) -> dict[str, Any] | None:
    """One request; returns the JSON body, or None on 404 (a GET of something absent)."""
    from azure.core.rest import HttpRequest

    req = HttpRequest(method, url, params={"api-version": API[api], **(params or {})}, json=body)
    req.url = client.format_url(req.url)
    resp = client.send_request(req)
    if resp.status_code == 404 and method == "GET":
        return None
    if resp.status_code >= 400:
        try:
            err = resp.json().get("error") or {}
        except ValueError:
            err = {}
        raise AzureCallError(method, url, resp.status_code, err.get("code") or str(resp.status_code),
                             err.get("message") or resp.text()[:300])
    try:
        return resp.json() if resp.content else {}
    except ValueError:
        return {}


def list_all(client: Any, url: str, api: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every item of a list API, following nextLink."""
    out: list[dict[str, Any]] = []
    page = call(client, "GET", url, api, params=params) or {}
    out += page.get("value") or []
    while page.get("nextLink"):
        from azure.core.rest import HttpRequest

        resp = client.send_request(HttpRequest("GET", page["nextLink"]))
        page = resp.json() if resp.status_code < 400 else {}
        out += page.get("value") or []
    return out
