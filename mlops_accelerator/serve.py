"""`mlops-accelerator serve`: the wizards as a Voila app, bound to 127.0.0.1, working offline.

Registered in cli.py with `main.add_command(serve)`. Only click is imported at module top,
so `mlops-accelerator --help` stays instant.
"""

from __future__ import annotations

import click

TEMPLATE = "mlops"


def wizards_dir():
    """The wizard notebooks (shipped in the package; the source tree's wizards/ in a checkout)."""
    from .resources import wizards_dir as shipped

    folder = shipped()
    if not (folder / "home.ipynb").is_file():
        raise click.ClickException(f"the wizard notebooks are not installed ({folder}/home.ipynb is missing)")
    return folder


def template_root():
    """A Jupyter data dir holding voila/templates/mlops (added to JUPYTER_PATH for voila)."""
    from pathlib import Path

    return Path(__file__).resolve().parent / "wizard" / "share"


def voila_command(project_root, port: int, *, preheat: bool = False, ip: str = "127.0.0.1",
                  token: str | None = None, allow_hosts: tuple[str, ...] = ()) -> tuple[list[str], dict[str, str]]:
    """The voila command line and environment serving the wizards for a project folder.

    Voila runs behind serve_guard (token, Host/Origin checks); the token travels in the environment.
    """
    import os
    import sys

    argv = [
        sys.executable, "-m", "mlops_accelerator.serve_guard", str(wizards_dir()),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={ip}",
        "--Voila.port_retries=0",  # the printed URL must be right: fail rather than move port
        "--strip_sources=True",  # no code cells shown
        f"--template={TEMPLATE}",  # voila's lab template minus its CDN links (see JUPYTER_PATH below)
        "--theme=light",
        "--show_tracebacks=False",
        "--Voila.log_level=WARN",
        # the project's own JupyterLab extension is for Lab, not for these pages
        "--VoilaConfiguration.extension_denylist=mlops-accelerator",
    ]
    if preheat:
        argv += ["--preheat_kernel=True", "--pool_size=1"]
    env = dict(os.environ)
    env["MLOPS_ACCELERATOR_PROJECT"] = str(project_root)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(template_root()), env.get("JUPYTER_PATH")) if p)
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.update(_guard_env(token, allow_hosts))
    return argv, env


def _guard_env(token: str | None, allow_hosts: tuple[str, ...]) -> dict[str, str]:
    """The token and extra allowed host names for serve_guard (environment, never argv)."""
    from .serve_guard import HOSTS_ENV, TOKEN_ENV, new_token

    return {TOKEN_ENV: token or new_token(), HOSTS_ENV: ",".join(allow_hosts)}


@click.command()
@click.option("--port", default=8866, show_default=True, type=click.IntRange(1, 65535),
              help="Port on 127.0.0.1 to serve on.")
@click.option("--preheat", is_flag=True, help="Keep a kernel per page ready (faster first paint, more memory).")
@click.option("--ip", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but 127.0.0.1 exposes the app to the network.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also accept this Host name (besides 127.0.0.1, ::1 and localhost); repeatable.")
@click.option("--token", envvar="MLOPS_ACCELERATOR_TOKEN", default=None,
              help="The access token (default: a new random one, printed in the URL).")
@click.pass_context
def serve(ctx: click.Context, port: int, preheat: bool, ip: str, allow_hosts: tuple[str, ...],
          token: str | None) -> None:
    """Serve the stage wizards as a Voila app on http://127.0.0.1:PORT (Ctrl-C stops it).

    Works on the project of -C/--project or the current folder (or its nearest parent); in a folder
    without a project the home page offers to create one. Open the printed URL: it carries the
    access token; requests for any Host other than 127.0.0.1/localhost (or --allow-host) are refused.
    """
    import os
    import sys
    from pathlib import Path

    from .errors import UsageError
    from .workspace import Project

    start = (ctx.obj or {}).get("project_dir") if ctx.obj else None
    try:
        root = Project.find(start).root
        what = f"project {root}"
    except UsageError:
        root = Path(start or ".").resolve()
        what = f"{root} (no project yet: the home page creates one)"
    from .serve_guard import TOKEN_ENV, new_token

    token = token or new_token()
    argv, env = voila_command(root, port, preheat=preheat, ip=ip, token=token, allow_hosts=allow_hosts)
    url = f"http://127.0.0.1:{port}/voila/render/home.ipynb?token={env[TOKEN_ENV]}"
    click.echo(f"Serving the wizards for {what}")
    click.echo(f"Open {url}")
    click.echo("Press Ctrl-C to stop.", nl=True)
    sys.stdout.flush()
    # Become voila: signals (Ctrl-C, SIGTERM from a supervisor or a test) reach it directly.
    os.execve(argv[0], argv, env)
