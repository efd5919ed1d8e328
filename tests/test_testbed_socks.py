"""Market C is reachable only through the testbed's SOCKS5 proxy, which fails closed."""

from __future__ import annotations

import socket
import struct
import urllib.request

import pytest

from testbed.server import Testbed
from testbed.socks import socks_http_get
from testbed.world import DEFAULT_SEED, DOWN_DAYS

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def tb():
    with Testbed(seed=DEFAULT_SEED, day=1) as bed:
        yield bed


def _connect_raw(port: int, atyp_payload: bytes) -> int:
    """Negotiate no-auth and CONNECT with a raw address payload; return the SOCKS reply code."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"\x05\x01\x00")
        assert s.recv(2) == b"\x05\x00"
        s.sendall(b"\x05\x01\x00" + atyp_payload)
        return s.recv(10)[1]


def test_onion_through_proxy_with_remote_resolution(tb):
    raw = socks_http_get(("127.0.0.1", tb.proxy.port), tb.onion_host, "/")
    assert raw.startswith(b"HTTP/1.0 200") and b"Silk Lantern" in raw
    rec = tb.proxy.connections[-1]
    assert (rec.host, rec.port, rec.atyp, rec.accepted, rec.reply) == (tb.onion_host, 80, "domain", True, 0)
    assert tb.proxy_url == f"socks5h://127.0.0.1:{tb.proxy.port}"
    assert tb.request_log("market_c")[-1]["path"] == "/"


def test_market_c_has_no_tcp_port(tb):
    # the onion name does not resolve locally (only the proxy knows it) ...
    with pytest.raises(OSError):
        socket.getaddrinfo(tb.onion_host, 80)
    # ... and no TCP site answers for it: every loopback server is another site
    for site in ("market_a", "market_b", "forum", "hostile"):
        req = urllib.request.Request(tb.url(site) + "/", headers={"Host": tb.onion_host})
        try:
            body = urllib.request.urlopen(req, timeout=5).read()
        except urllib.error.HTTPError as e:
            body = e.read()
        assert b"Silk Lantern" not in body
    # the market C server is a Unix socket, not an inet one
    server = tb._threads["market_c"].server
    assert server.socket.family == socket.AF_UNIX


def test_unknown_destinations_are_refused_with_host_unreachable(tb):
    port = tb.proxy.port
    before = len(tb.proxy.connections)
    name = b"example.com"
    assert _connect_raw(port, b"\x03" + bytes([len(name)]) + name + struct.pack("!H", 80)) == 0x04
    assert _connect_raw(port, b"\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", 80)) == 0x04
    assert _connect_raw(port, b"\x01" + socket.inet_aton("203.0.113.7") + struct.pack("!H", 80)) == 0x04
    onion = tb.onion_host.encode()
    assert _connect_raw(port, b"\x03" + bytes([len(onion)]) + onion + struct.pack("!H", 443)) == 0x04
    recs = tb.proxy.connections[before:]
    assert [(r.host, r.accepted) for r in recs] == [("example.com", False), ("127.0.0.1", False),
                                                    ("203.0.113.7", False), (tb.onion_host, False)]
    with pytest.raises(ConnectionError, match="0x04"):
        socks_http_get(("127.0.0.1", port), "otheronionxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion", "/")


def test_username_password_auth_is_recorded_for_isolation(tb):
    socks_http_get(("127.0.0.1", tb.proxy.port), tb.onion_host, "/vendors", username="crawl-7", password="iso")
    rec = tb.proxy.connections[-1]
    assert (rec.username, rec.password, rec.accepted) == ("crawl-7", "iso", True)


def test_no_acceptable_auth_method_is_rejected(tb):
    with socket.create_connection(("127.0.0.1", tb.proxy.port), timeout=5) as s:
        s.sendall(b"\x05\x01\x01")  # GSSAPI only
        assert s.recv(2) == b"\x05\xff"


def test_stop_and_start_proxy_simulates_tor_going_down():
    with Testbed(seed=DEFAULT_SEED) as bed:
        port = bed.proxy.port
        bed.stop_proxy()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        bed.start_proxy()
        assert bed.proxy.port == port
        assert socks_http_get(("127.0.0.1", port), bed.onion_host, "/").startswith(b"HTTP/1.0 200")


def test_onion_down_day_is_unreachable():
    down = DOWN_DAYS["market_c"][0]
    with Testbed(seed=DEFAULT_SEED, day=down) as bed:
        with pytest.raises(ConnectionError, match="0x04"):
            socks_http_get(("127.0.0.1", bed.proxy.port), bed.onion_host, "/")
        assert bed.proxy.connections[-1].accepted is False
        bed.set_day(down + 1)
        assert socks_http_get(("127.0.0.1", bed.proxy.port), bed.onion_host, "/").startswith(b"HTTP/1.0 200")
