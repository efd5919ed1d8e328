"""`narcowatch testbed ...`: serve the local practice sites, switch their day, write the answer key."""

from __future__ import annotations

import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import click

from narcowatch import settings


@click.group("testbed")
def testbed_group() -> None:
    """Local practice sites (two markets, an onion market behind a SOCKS5 proxy, a forum, a hostile site)."""


@testbed_group.command("serve")
@click.option("--seed", type=int, default=None, help="World seed (default: testbed.DEFAULT_SEED).")
@click.option("--day", type=int, default=1, show_default=True, help="Day served at start (1..14).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; keep it loopback.")
@click.option("--base-port", type=int, default=None,
              help="First of six consecutive ports: market_a, market_b, forum, hostile, proxy, control "
                   "(default 8710..8715).")
def serve(seed: int | None, day: int, host: str, base_port: int | None) -> None:
    """Run every testbed site in the foreground until Ctrl-C or SIGTERM; writes $NARCOWATCH_HOME/testbed.json."""
    from testbed.server import DEFAULT_BASE_PORT, PORT_OFFSETS, Testbed
    from testbed.world import DEFAULT_SEED

    base = DEFAULT_BASE_PORT if base_port is None else base_port
    ports = {name: base + off for name, off in PORT_OFFSETS.items()}
    seed = DEFAULT_SEED if seed is None else seed
    try:
        tb = Testbed(seed=seed, day=day, host=host, ports=ports, control=True)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--day") from e
    try:
        tb.start()
    except OSError as e:
        raise click.ClickException(f"cannot bind {host}:{base}..{base + 5} ({e.strerror or e}); "
                                   "another testbed running? Pick another --base-port.") from e
    info = tb.info()
    home = settings.home()
    home.mkdir(parents=True, exist_ok=True)
    state_file = home / "testbed.json"
    state_file.write_text(json.dumps(info, indent=2) + "\n")
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"testbed seed {seed}, day {tb.day}: " + ", ".join(f"{k} {v}" for k, v in info["sites"].items()))
    click.echo(f"market_c {info['onion_url']} via {info['proxy_url']}; control {info['control_url']}")
    click.echo(f"wrote {state_file}; Ctrl-C to stop")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        tb.stop()
        try:
            if json.loads(state_file.read_text()).get("control_url") == info["control_url"]:
                state_file.unlink()
        except (OSError, ValueError):
            pass
    click.echo("testbed stopped")


@testbed_group.command("set-day")
@click.argument("day", type=int)
@click.option("--control", default=None,
              help="Control URL of a running `narcowatch testbed serve` (default: read $NARCOWATCH_HOME/testbed.json).")
def set_day(day: int, control: str | None) -> None:
    """Make a running testbed serve DAY (1..14) on every site from the next request on."""
    if control is None:
        state_file = settings.home() / "testbed.json"
        try:
            control = json.loads(state_file.read_text())["control_url"]
        except (OSError, ValueError, KeyError) as e:
            raise click.ClickException(f"{state_file}: no running testbed found ({e}); start "
                                       "`narcowatch testbed serve` or pass --control URL.") from e
    req = urllib.request.Request(f"{control}/day/{day}", method="POST", data=b"")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            info = json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise click.ClickException(f"testbed refused day {day}: {json.loads(e.read()).get('error')}") from e
    except OSError as e:
        raise click.ClickException(f"cannot reach the testbed control endpoint {control}: {e}") from e
    click.echo(f"testbed now serves day {info['day']}")


@testbed_group.command("answer-key")
@click.option("--day", type=int, required=True, help="Day (1..14) whose ground truth to write.")
@click.option("--seed", type=int, default=None, help="World seed (default: testbed.DEFAULT_SEED).")
@click.option("--out", "out", default="-", show_default=True, help="Output JSON file; '-' writes to stdout.")
def answer_key(day: int, seed: int | None, out: str) -> None:
    """Write the ground truth of DAY as JSON: listings, vendors, actors, posts and the day's changes."""
    import testbed

    try:
        key = testbed.answer_key(testbed.DEFAULT_SEED if seed is None else seed, day)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--day") from e
    text = json.dumps(key, ensure_ascii=False, indent=1) + "\n"
    if out == "-":
        sys.stdout.write(text)
        return
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}: {len(key['listings'])} listings, {len(key['vendors'])} vendors, "
               f"{len(key['posts'])} posts (day {day}, {key['date']})", err=True)


commands = [testbed_group]
