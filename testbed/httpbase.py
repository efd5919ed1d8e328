"""A small HTTP layer over http.server: site apps return Response objects, bodies may stream.

Each site is an app with `handle(Request) -> Response`; the same handler class serves apps on TCP
(127.0.0.1) and on Unix domain sockets (market C, reachable only through the SOCKS proxy).
Every request is logged per site (timestamp, method, path, client, status) for rate-limit checks.
"""

from __future__ import annotations

import html
import logging
import socketserver
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str  # decoded path without the query
    query: dict[str, list[str]]
    raw: str  # the request target as sent
    headers: dict[str, str]
    client: str

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]

    def int_arg(self, name: str, default: int = 1) -> int:
        try:
            return int(self.arg(name, str(default)))
        except ValueError:
            return default


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    length: int | None = None  # Content-Length of a streamed body; None = close-delimited


def html_response(text: str, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, text.encode("utf-8"), headers=headers or [])


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


class RequestLog:
    """Thread-safe record of requests one site received."""

    def __init__(self, maxlen: int = 200_000) -> None:
        self._entries: deque[dict] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def add(self, entry: dict) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class AppHandler(BaseHTTPRequestHandler):
    server_version = "nginx/1.24.0"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.server.app.site_id, format % args)  # type: ignore[attr-defined]

    def address_string(self) -> str:
        ca = self.client_address
        return ca[0] if isinstance(ca, tuple) and ca else "unix"

    def _serve(self) -> None:
        app = self.server.app  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        from urllib.parse import unquote

        req = Request(self.command, unquote(parts.path) or "/", parse_qs(parts.query, keep_blank_values=True),
                      self.path, {k.lower(): v for k, v in self.headers.items()}, self.address_string())
        try:
            resp = app.handle(req)
        except Exception:  # a testbed bug must show as a 500, not a hung client
            log.exception("testbed %s failed on %s", app.site_id, self.path)
            resp = html_response("<h1>500 Internal Server Error</h1>", 500)
        self.server.request_log.add({"ts": time.time(), "method": self.command, "path": self.path,  # type: ignore[attr-defined]
                                     "client": req.client, "status": resp.status})
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            for k, v in resp.headers:
                self.send_header(k, v)
            if isinstance(resp.body, bytes | bytearray):
                self.send_header("Content-Length", str(len(resp.body)))
            elif resp.length is not None:
                self.send_header("Content-Length", str(resp.length))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                return
            if isinstance(resp.body, bytes | bytearray):
                self.wfile.write(resp.body)
            else:
                stop = self.server.stopping  # type: ignore[attr-defined]
                for chunk in resp.body:
                    if stop.is_set():
                        break
                    self.wfile.write(chunk)
                    self.wfile.flush()
        except (TimeoutError, BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up (size limits, timeouts): exactly what hostile pages provoke

    do_GET = _serve
    do_HEAD = _serve
    do_POST = _serve


class TCPSiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], app) -> None:
        self.app = app
        self.request_log = RequestLog()
        self.stopping = threading.Event()
        super().__init__(addr, AppHandler)

    def server_bind(self) -> None:
        # skip HTTPServer's getfqdn() lookup: no DNS on loopback-only machines
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class UnixSiteServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, app) -> None:
        self.app = app
        self.request_log = RequestLog()
        self.stopping = threading.Event()
        super().__init__(path, AppHandler)


class ServerThread:
    """Runs one server in a daemon thread; stop() shuts it down and closes the socket."""

    def __init__(self, server) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                       name=f"testbed-{server.app.site_id}", daemon=True)

    def start(self) -> ServerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
