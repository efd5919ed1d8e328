"""The browser's SOCKS relay: Chromium's streams reach the proxy by name, with the site's circuit credentials;
proxy down means a SOCKS failure, never a direct connection."""

from __future__ import annotations

import pytest

from crawler.egress import circuit_proxy
from crawler.profile import load_profile
from crawler.socks_relay import SocksRelay


@pytest.mark.timeout(60)
def test_relay_adds_site_credentials_and_fails_closed(tmp_path):
    from pathlib import Path
    from urllib.parse import urlsplit

    from testbed.server import Testbed
    from testbed.socks import socks_http_get

    profile = load_profile(Path(__file__).resolve().parents[1] / "sites" / "testbed_market_c.yaml")
    with Testbed(day=1) as tb:
        relay = SocksRelay(circuit_proxy(profile, tb.proxy_url))
        url = relay.start()
        try:
            port = urlsplit(url).port
            body = socks_http_get(("127.0.0.1", port), tb.onion_host, "/")  # as Chromium does: no credentials
            assert body.startswith(b"HTTP/1.") and b"Silk Lantern" in body
            seen = tb.proxy.connections[-1]
            assert (seen.host, seen.atyp, seen.username, seen.password) == (
                tb.onion_host, "domain", "narcowatch-testbed_market_c", "circuit")
            # an unknown destination is refused by the proxy, and the refusal reaches the client
            with pytest.raises(ConnectionError):
                socks_http_get(("127.0.0.1", port), "203.0.113.7", "/")
            tb.stop_proxy()
            with pytest.raises(ConnectionError):
                socks_http_get(("127.0.0.1", port), tb.onion_host, "/")
        finally:
            tb.start_proxy()
            relay.stop()
