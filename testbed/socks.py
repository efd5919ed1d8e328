"""A SOCKS5 proxy that behaves like Tor's SocksPort for the testbed's onion market.

- Resolves names itself (ATYP 0x03, socks5h): `<onion>:80` is routed to market C's Unix socket.
- Refuses every destination it does not know, including any IP address, with reply 0x04 (host unreachable),
  and a known onion whose site is down the same way (as Tor does when a descriptor cannot be fetched).
- Accepts no-auth (0x00) and username/password (0x02, RFC 1929; any credentials accepted and recorded:
  Tor uses them for circuit isolation). Only CONNECT is supported (others get 0x07).
- Records every CONNECT in `connections` (host, port, username, password, accepted, reply).
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Route = Callable[[], str | None]  # returns the Unix socket path, or None while the site is down


@dataclass
class Connection:
    ts: float
    host: str
    port: int
    atyp: str  # "domain", "ipv4" or "ipv6"
    username: str | None
    password: str | None
    accepted: bool
    reply: int


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("client closed during SOCKS negotiation")
        buf += chunk
    return buf


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(10)
        proxy = self.server.proxy
        try:
            ver, nmethods = _recv_exact(sock, 2)
            if ver != 5:
                return
            methods = _recv_exact(sock, nmethods)
            username = password = None
            if 2 in methods:
                sock.sendall(b"\x05\x02")
                _subver, ulen = _recv_exact(sock, 2)
                username = _recv_exact(sock, ulen).decode("utf-8", "replace")
                (plen,) = _recv_exact(sock, 1)
                password = _recv_exact(sock, plen).decode("utf-8", "replace")
                sock.sendall(b"\x01\x00")
            elif 0 in methods:
                sock.sendall(b"\x05\x00")
            else:
                sock.sendall(b"\x05\xff")
                return
            _ver, cmd, _rsv, atyp = _recv_exact(sock, 4)
            if atyp == 1:
                host, kind = socket.inet_ntop(socket.AF_INET, _recv_exact(sock, 4)), "ipv4"
            elif atyp == 3:
                (n,) = _recv_exact(sock, 1)
                host, kind = _recv_exact(sock, n).decode("ascii", "replace").lower(), "domain"
            elif atyp == 4:
                host, kind = socket.inet_ntop(socket.AF_INET6, _recv_exact(sock, 16)), "ipv6"
            else:
                self._reply(sock, 0x08)
                return
            (port,) = struct.unpack("!H", _recv_exact(sock, 2))
            if cmd != 1:
                proxy._record(host, port, kind, username, password, False, 0x07)
                self._reply(sock, 0x07)
                return
            route = proxy.routes.get((host, port))
            target = route() if route else None
            if target is None:
                proxy._record(host, port, kind, username, password, False, 0x04)
                self._reply(sock, 0x04)
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(target)
            except OSError:
                upstream.close()
                proxy._record(host, port, kind, username, password, False, 0x04)
                self._reply(sock, 0x04)
                return
            proxy._record(host, port, kind, username, password, True, 0x00)
            self._reply(sock, 0x00)
            proxy._relay(sock, upstream)
        except (ConnectionError, OSError, ValueError):
            return

    @staticmethod
    def _reply(sock: socket.socket, code: int) -> None:
        sock.sendall(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: Socks5Proxy


class Socks5Proxy:
    def __init__(self, routes: dict[tuple[str, int], Route], host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes = {(h.lower(), p): r for (h, p), r in routes.items()}
        self.host = host
        self.port = port
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._open: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"socks5h://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Socks5Proxy:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.proxy = self
        self.port = server.server_address[1]  # keep the same port across stop/start
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="testbed-socks5", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket and every relayed connection (Tor going down)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            conns, self._open = list(self._open), set()
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        if self._thread:
            self._thread.join(timeout=5)

    def clear(self) -> None:
        with self._lock:
            self.connections.clear()

    def _record(self, host: str, port: int, atyp: str, username: str | None, password: str | None,
                accepted: bool, reply: int) -> None:
        with self._lock:
            self.connections.append(Connection(time.time(), host, port, atyp, username, password, accepted, reply))

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            self._open.update((a, b))
        a.settimeout(None)
        try:
            socks = [a, b]
            while True:
                readable, _, broken = select.select(socks, [], socks, 1.0)
                if broken:
                    break
                if not readable:
                    if self._server is None:
                        break
                    continue
                done = False
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        done = True
                        break
                    (b if s is a else a).sendall(data)
                if done:
                    break
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(a)
                self._open.discard(b)
            b.close()


def socks_http_get(proxy: tuple[str, int], host: str, path: str = "/", port: int = 80,
                   username: str | None = None, password: str | None = None, timeout: float = 10) -> bytes:
    """GET http://host:port/path through a SOCKS5 proxy with remote name resolution; the raw HTTP response.

    A tiny client for tests and diagnostics (Scrapy has no SOCKS support of its own). Raises
    ConnectionError with the SOCKS reply code when the proxy refuses the destination.
    """
    with socket.create_connection(proxy, timeout=timeout) as s:
        if username is not None:
            s.sendall(b"\x05\x01\x02")
            if _recv_exact(s, 2) != b"\x05\x02":
                raise ConnectionError("proxy refused username/password authentication")
            u, p = username.encode(), (password or "").encode()
            s.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
            if _recv_exact(s, 2)[1] != 0:
                raise ConnectionError("proxy rejected the credentials")
        else:
            s.sendall(b"\x05\x01\x00")
            if _recv_exact(s, 2) != b"\x05\x00":
                raise ConnectionError("proxy refused no-auth")
        name = host.encode("idna")
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", port))
        reply = _recv_exact(s, 10)
        if reply[1] != 0:
            raise ConnectionError(f"SOCKS5 reply 0x{reply[1]:02x} for {host}:{port}")
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: testbed\r\n\r\n".encode())
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)
