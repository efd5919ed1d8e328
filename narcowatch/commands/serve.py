"""`narcowatch serve`: the investigator web app and JSON API (uvicorn, one process)."""

from __future__ import annotations

import click

from narcowatch.context import database


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep 127.0.0.1 and put a TLS reverse proxy in front for other machines.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              help="uvicorn's log level (requests are audited in the database either way).")
def serve(host: str, port: int, log_level: str) -> None:
    """Serve the investigator web app: search, listings with evidence, vendors, clusters, sites, reports.

    Users sign in with accounts made by `narcowatch users add`; the JSON API under /api (described at
    /openapi.json) takes `Authorization: Bearer <token>` from `narcowatch users token create`."""
    import uvicorn

    from web.app import create_app

    engine = database()  # refuses an unmigrated database with the command that fixes it
    app = create_app(engine)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host}: serve it only behind a TLS reverse proxy "
                   "(session cookies are marked Secure only on https)", err=True)
    click.echo(f"narcowatch web app on http://{host}:{port}/ (Ctrl+C to stop)")
    # one process: the login rate limiter lives in memory; proxy_headers so the audit log records the
    # client's address when a local reverse proxy forwards it
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=True,
                forwarded_allow_ips="127.0.0.1", server_header=False)


commands = [serve]
