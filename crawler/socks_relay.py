"""A loopback SOCKS5 relay that gives Chromium a Tor circuit of the site's own.

Tor isolates circuits by SOCKS credentials (IsolateSOCKSAuth), but Chromium cannot send SOCKS credentials.
So in browser mode Chromium talks to this relay (127.0.0.1, an ephemeral port, no authentication), and the
relay opens every stream to the real proxy with the site's username/password, passing Chromium's CONNECT
request through unchanged: host names still travel to the proxy as names (remote DNS), nothing is resolved
here. Proxy down means the relay answers "general failure" and nothing goes anywhere else (fail closed).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)


class SocksRelay:
    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        if not parts.hostname or not parts.port:
            raise ValueError(f"{upstream}: a SOCKS proxy URL needs a host and a port")
        self.host, self.port = parts.hostname, parts.port
        self.username = unquote(parts.username or "").encode()
        self.password = unquote(parts.password or "").encode()
        self.loop = asyncio.new_event_loop()
        self.listen_port: int | None = None
        self._server: asyncio.AbstractServer | None = None

    def start(self) -> str:
        """Starts the relay in a daemon thread; returns the URL Chromium should use."""
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self._server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
            self.listen_port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, name="socks-relay", daemon=True).start()
        if not ready.wait(10):
            raise RuntimeError("the SOCKS relay for the browser did not start")
        return f"socks5://127.0.0.1:{self.listen_port}"

    def stop(self) -> None:
        if self._server is not None:
            self.loop.call_soon_threadsafe(self._server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            version, count = await reader.readexactly(2)
            methods = await reader.readexactly(count)
            if version != 5 or 0 not in methods:
                writer.write(b"\x05\xff")
                return
            writer.write(b"\x05\x00")
            head = await reader.readexactly(4)  # VER CMD RSV ATYP
            atyp = head[3]
            if atyp == 1:
                address = await reader.readexactly(4)
            elif atyp == 4:
                address = await reader.readexactly(16)
            elif atyp == 3:
                length = await reader.readexactly(1)
                address = length + await reader.readexactly(length[0])
            else:
                writer.write(b"\x05\x08\x00\x01" + bytes(6))
                return
            port = await reader.readexactly(2)
            try:
                up_reader, upstream_writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), 30)
                await self._handshake(up_reader, upstream_writer)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ConnectionError) as exc:
                logger.warning("SOCKS relay: upstream proxy %s:%s unreachable (%s)", self.host, self.port, exc)
                writer.write(b"\x05\x01\x00\x01" + bytes(6))  # general failure: nothing leaves otherwise
                return
            upstream_writer.write(head + address + port)
            reply = await up_reader.readexactly(4)
            bound = {1: 4, 4: 16}.get(reply[3])
            rest = await up_reader.readexactly(bound + 2) if bound is not None else b""
            if bound is None:
                length = await up_reader.readexactly(1)
                rest = length + await up_reader.readexactly(length[0] + 2)
            writer.write(reply + rest)
            if reply[1] != 0:
                return
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    w.close()

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\x05\x01\x02")  # username/password only: the credentials pick the circuit
        if await reader.readexactly(2) != b"\x05\x02":
            raise ConnectionError("the proxy refused username/password authentication")
        writer.write(b"\x01" + bytes([len(self.username)]) + self.username + bytes([len(self.password)])
                     + self.password)
        if (await reader.readexactly(2))[1] != 0:
            raise ConnectionError("the proxy rejected the circuit credentials")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
