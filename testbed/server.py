"""Start and stop every testbed site: `with Testbed(seed=..., day=1) as tb: tb.url("market_a")`.

Market A, market B, the forum and the hostile site listen on 127.0.0.1 TCP ports (free ones unless
`ports` says otherwise). Market C listens on a Unix domain socket in a private temporary directory and
is reachable only through the SOCKS5 proxy (`tb.proxy_url`), which routes `<tb.onion_host>:80` there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from typing import Any

from testbed.httpbase import ServerThread, TCPSiteServer, UnixSiteServer
from testbed.sites.common import State
from testbed.sites.forum import Forum
from testbed.sites.hostile import Hostile
from testbed.sites.market_a import MarketA
from testbed.sites.market_b import MarketB
from testbed.sites.market_c import MarketC
from testbed.socks import Socks5Proxy
from testbed.world import DEFAULT_SEED, build

log = logging.getLogger(__name__)

TCP_SITES = ("market_a", "market_b", "forum", "hostile")
# `narcowatch testbed serve` uses base port + offset (documented in docs/testbed.md)
PORT_OFFSETS = {"market_a": 0, "market_b": 1, "forum": 2, "hostile": 3, "proxy": 4, "control": 5}
DEFAULT_BASE_PORT = 8710


class Testbed:
    """Every testbed server, started in background threads; a context manager that stops them on exit."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, seed: int = DEFAULT_SEED, day: int = 1, host: str = "127.0.0.1",
                 ports: dict[str, int] | None = None, control: bool = False,
                 crawl_delay: float | None = None) -> None:
        self.world = build(seed)
        if not 1 <= day <= self.world.days:
            raise ValueError(f"day {day} is outside 1..{self.world.days}")
        self.seed = seed
        self.host = host
        self.state = State(seed, day, crawl_delay)
        self.ports = dict(ports or {})
        self.control_enabled = control
        self.onion_host = self.world.onion_host
        self._threads: dict[str, ServerThread] = {}
        self._sockdir: str | None = None
        self.proxy: Socks5Proxy | None = None
        self._control: ServerThread | None = None
        self.apps: dict[str, Any] = {}

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Testbed:
        apps = {"market_a": MarketA(self.state), "market_b": MarketB(self.state), "forum": Forum(self.state),
                "hostile": Hostile(self.state), "market_c": MarketC(self.state)}
        self.apps = apps
        try:
            for site in TCP_SITES:
                server = TCPSiteServer((self.host, self.ports.get(site, 0)), apps[site])
                self._threads[site] = ServerThread(server).start()
            self._sockdir = tempfile.mkdtemp(prefix="narcowatch-testbed-")
            os.chmod(self._sockdir, 0o700)
            path = os.path.join(self._sockdir, "market_c.sock")
            self._threads["market_c"] = ServerThread(UnixSiteServer(path, apps["market_c"])).start()
            self.proxy = Socks5Proxy({(self.onion_host, 80): self._onion_route}, self.host,
                                     self.ports.get("proxy", 0)).start()
            if self.control_enabled:
                self._control = ServerThread(_control_server(self, self.host, self.ports.get("control", 0))).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self._control is not None:
            self._control.stop()
            self._control = None
        for t in self._threads.values():
            t.stop()
        self._threads.clear()
        if self._sockdir:
            shutil.rmtree(self._sockdir, ignore_errors=True)
            self._sockdir = None

    def __enter__(self) -> Testbed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- addresses

    def url(self, site_id: str) -> str:
        """Base URL (no trailing slash) of market_a, market_b, forum or hostile; market_c gives its onion URL."""
        if site_id == "market_c":
            return self.onion_url
        server = self._threads[site_id].server
        return f"http://{self.host}:{server.server_address[1]}"

    @property
    def onion_url(self) -> str:
        return f"http://{self.onion_host}"

    @property
    def proxy_url(self) -> str:
        assert self.proxy is not None, "testbed not started"
        return self.proxy.url

    @property
    def control_url(self) -> str | None:
        return f"http://{self.host}:{self._control.server.server_address[1]}" if self._control else None

    def _onion_route(self) -> str | None:
        if not self.world.site_up("market_c", self.state.day) or "market_c" not in self._threads:
            return None
        return self._threads["market_c"].server.server_address

    # ---------------------------------------------------------------- controls

    @property
    def day(self) -> int:
        return self.state.day

    def set_day(self, day: int) -> None:
        """Serve `day` on every site from the next request on."""
        if not 1 <= day <= self.world.days:
            raise ValueError(f"day {day} is outside 1..{self.world.days}")
        with self.state.lock:
            self.state.day = day

    def stop_proxy(self) -> None:
        """Simulate Tor going down: the proxy port refuses connections and open circuits are cut."""
        if self.proxy:
            self.proxy.stop()

    def start_proxy(self) -> None:
        if self.proxy:
            self.proxy.start()

    def request_log(self, site_id: str) -> list[dict]:
        """Requests a site received: dicts with ts (epoch seconds), method, path, client, status."""
        return self._threads[site_id].server.request_log.entries()

    def clear_logs(self) -> None:
        for t in self._threads.values():
            t.server.request_log.clear()
        if self.proxy:
            self.proxy.clear()

    def info(self) -> dict:
        """What `narcowatch testbed serve` writes to $NARCOWATCH_HOME/testbed.json."""
        return {"seed": self.seed, "day": self.day, "days": self.world.days,
                "sites": {s: self.url(s) for s in TCP_SITES}, "onion_host": self.onion_host,
                "onion_url": self.onion_url, "proxy_url": self.proxy_url, "control_url": self.control_url}


def _control_server(tb: Testbed, host: str, port: int) -> TCPSiteServer:
    """GET /state; POST /day/<n>; POST /proxy/stop|start. Used by `narcowatch testbed set-day`."""

    class ControlApp:
        site_id = "control"

        def handle(self, req):
            from testbed.httpbase import Response

            def ok(data: dict, status: int = 200) -> Response:
                return Response(status, json.dumps(data).encode(), "application/json")

            if req.path == "/state":
                return ok(tb.info())
            if req.method == "POST" and req.path.startswith("/day/"):
                try:
                    tb.set_day(int(req.path[len("/day/"):]))
                except ValueError as e:
                    return ok({"error": str(e)}, 400)
                log.info("testbed now serves day %d", tb.day)
                return ok(tb.info())
            if req.method == "POST" and req.path == "/proxy/stop":
                tb.stop_proxy()
                return ok({"proxy": "stopped"})
            if req.method == "POST" and req.path == "/proxy/start":
                tb.start_proxy()
                return ok({"proxy": "started"})
            return ok({"error": "unknown control endpoint"}, 404)

    return TCPSiteServer((host, port), ControlApp())


__all__ = ["DEFAULT_BASE_PORT", "PORT_OFFSETS", "Testbed"]
