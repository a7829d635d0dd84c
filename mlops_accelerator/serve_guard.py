"""Who may talk to the Voila app of `mlops-accelerator serve`: a token, and local Host/Origin only.

Voila on its own serves anyone who can reach the port and answers any Host header, so a web
page on another site could, through DNS rebinding, drive the wizards (and record a sign-off).
Here:
- a token is required, like Jupyter's: the URL `serve` prints carries it (`?token=`), the first
  page sets a login cookie, and a request without either is refused (403);
- every request's Host, and Origin when a browser sends one, must be 127.0.0.1, ::1, localhost,
  or a name given with `--allow-host`; anything else gets 403 before any handler runs;
- the server binds 127.0.0.1 unless `--ip` says otherwise.

`python -m mlops_accelerator.serve_guard <voila arguments>` runs Voila with these rules; the
token comes from the environment (never the command line, which other local users can read).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from urllib.parse import urlsplit

TOKEN_ENV = "MLOPS_ACCELERATOR_VOILA_TOKEN"
HOSTS_ENV = "MLOPS_ACCELERATOR_VOILA_HOSTS"  # extra allowed host names, comma-separated
LOCAL_NAMES = ("localhost",)


def new_token() -> str:
    return secrets.token_hex(24)


def _host_name(host: str) -> str:
    """'127.0.0.1:8866' -> '127.0.0.1'; '[::1]:8866' -> '::1'; names lowercased."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def host_allowed(host: str, extra: tuple[str, ...] = ()) -> bool:
    name = _host_name(host)
    if not name:
        return False
    if name in LOCAL_NAMES or name in {e.strip().lower() for e in extra if e.strip()}:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def request_problem(host: str | None, origin: str | None, extra: tuple[str, ...] = ()) -> str | None:
    """Why a request must be refused (a sentence), or None when its Host and Origin are local."""
    if not host or not host_allowed(host, extra):
        return (f"Host {host!r} is not allowed: open the app at http://127.0.0.1 or http://localhost, "
                "or start it with --allow-host NAME")
    if origin is not None and origin != "null":
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not host_allowed(parts.netloc, extra):
            return f"requests from the web page at {origin!r} are not allowed"
    return None


def _guarded_voila():
    """Voila's app class with a Host/Origin check in front of every handler and a required token."""
    import tempfile

    import tornado.web
    from voila.app import Voila

    extra = tuple(h for h in os.environ.get(HOSTS_ENV, "").split(",") if h.strip())

    class Refused(tornado.web.RequestHandler):
        def initialize(self, reason: str) -> None:
            self.reason = reason

        def prepare(self) -> None:
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"403 Forbidden: {self.reason}\n")

    class GuardedApplication(tornado.web.Application):
        def find_handler(self, request, **kwargs):  # the first thing tornado asks for every request
            problem = request_problem(request.host, request.headers.get("Origin"), extra)
            if problem:
                return self.get_handler_delegate(request, Refused, {"reason": problem})
            return super().find_handler(request, **kwargs)

    class GuardedVoila(Voila):
        def initialize(self, argv=None):
            super().initialize(argv)
            token = os.environ.pop(TOKEN_ENV, "")
            if not token:
                raise SystemExit(f"{TOKEN_ENV} is not set: refusing to serve without a token")
            self.token = token

        def start(self):  # Voila.start, with the guarded application
            self.connection_dir = tempfile.mkdtemp(prefix="voila_", dir=self.connection_dir_root)
            settings = self.init_settings()
            self.app = GuardedApplication(**settings)
            self.app.settings.update(self.tornado_settings)
            self.app.add_handlers(".*$", self.init_handlers())
            self.listen()

    return GuardedVoila


def main(argv: list[str] | None = None) -> None:
    _guarded_voila().launch_instance(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover - exercised through `mlops-accelerator serve`
    main()
