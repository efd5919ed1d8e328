"""Site profiles: the private/loopback allow-list, errors naming file, line and field, the shipped profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.egress import Policy
from crawler.profile import ProfileError, all_profiles, load_profile, parse_profile

SITES = Path(__file__).resolve().parents[1] / "sites"

BODY = "pages:\n  listing:\n    fields:\n      external_id: '#id'\n      title: h1\n"


def _text(base_url: str, allow: str = "") -> str:
    return f"name: Lab\nkind: market\nbase_url: {base_url}\n{allow}{BODY}"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8710/", "http://localhost/", "http://10.1.2.3/",
                                 "http://192.168.0.10/", "http://[::1]:8080/", "http://169.254.169.254/"])
def test_private_base_url_needs_the_allow_list(url):
    with pytest.raises(ProfileError) as err:
        parse_profile(_text(url), "sites/lab.yaml")
    message = str(err.value)
    assert message.startswith("sites/lab.yaml:3: base_url: "), message
    assert "loopback/private" in message and "allow" in message


def test_allow_list_of_addresses_and_networks():
    profile = parse_profile(_text("http://10.1.2.3:8080/", "allow:\n  private: [10.0.0.0/8]\n"), "lab.yaml")
    policy = Policy(profile)
    assert policy.refusal("http://10.1.2.3:8080/x") is None
    with pytest.raises(ProfileError, match=r"lab.yaml:3: base_url: .*127.0.0.1"):
        parse_profile(_text("http://127.0.0.1/", "allow:\n  private: [10.0.0.0/8]\n"), "lab.yaml")
    with pytest.raises(ProfileError, match=r"lab.yaml:5: allow.private: 'ten' is not an IP address"):
        parse_profile(_text("http://10.1.2.3/", "allow:\n  private: [ten]\n"), "lab.yaml")
    # a start URL on another private host is checked too, with its own line
    text = _text("http://10.1.2.3/", "allow:\n  private: [10.1.2.3]\n  hosts: [127.0.0.1]\n").replace(
        "allow:", "start_urls: [/, 'http://127.0.0.1/x']\nallow:")
    with pytest.raises(ProfileError, match=r"lab.yaml:4: start_urls.1: 127.0.0.1"):
        parse_profile(text, "lab.yaml")


def test_public_profile_cannot_be_pointed_at_loopback_by_an_override():
    profile = parse_profile(_text("http://market.example/"), "sites/lab.yaml")
    assert Policy(profile).refusal("http://market.example/listing/1") is None
    with pytest.raises(ProfileError, match=r"sites/lab.yaml: base_url: 127.0.0.1 is a loopback/private"):
        profile.with_overrides(base_url="http://127.0.0.1:8710/")
    # the testbed profiles allow loopback, so the tests and the demo can point them at any port
    market_a = load_profile(SITES / "testbed_market_a.yaml")
    moved = market_a.with_overrides(base_url="http://127.0.0.1:40000/")
    assert Policy(moved).refusal("http://127.0.0.1:40000/listing/1") is None
    assert Policy(moved).refusal("http://127.0.0.1:5432/") is not None  # another port is not the site


class _Request:  # what the browser route handler is given: a Playwright request, of which only .url is read
    def __init__(self, url: str):
        self.url = url


def test_each_browser_crawl_answers_to_its_own_policy():
    """A distributed worker runs several crawls in one process: each browser's sub-requests are judged by
    its own site's policy (a module-wide guard let the last crawl loaded decide for every browser), and the
    refusals are kept for that crawl alone."""
    from crawler.egress import BrowserGuard, refuse_all
    from crawler.settings import crawl_settings

    shop = load_profile(SITES / "testbed_market_b.yaml").with_overrides(base_url="http://127.0.0.1:41000/")
    lab = parse_profile(_text("http://market.example/", "fetch: browser\n"), "sites/lab.yaml")
    guards = [crawl_settings(p, chromium="/usr/bin/chromium", tor_proxy="")["PLAYWRIGHT_ABORT_REQUEST"]
              for p in (shop, lab)]
    assert all(isinstance(g, BrowserGuard) for g in guards) and guards[0] is not guards[1]
    shop_guard, lab_guard = guards
    assert shop_guard(_Request("http://127.0.0.1:41000/api/listings")) is False  # its own API: allowed
    assert lab_guard(_Request("http://127.0.0.1:41000/api/listings")) is True  # not the lab's site
    assert lab_guard(_Request("http://market.example/static/app.js")) is False
    assert shop_guard(_Request("http://market.example/static/app.js")) is True
    assert shop_guard(_Request("data:image/png;base64,AAAA")) is False
    assert [u for u, _ in shop_guard.refused] == ["http://market.example/static/app.js"]
    assert [u for u, _ in lab_guard.refused] == ["http://127.0.0.1:41000/api/listings"]
    # a browser without a crawl's guard (the defaults alone) fetches nothing
    assert refuse_all(_Request("http://market.example/")) is True
    assert refuse_all(_Request("about:blank")) is False


def test_shipped_profiles_load(monkeypatch):
    monkeypatch.setenv("NARCOWATCH_SITES_DIR", str(SITES))
    profiles = {p.slug: p for p in all_profiles()}
    assert {"testbed_market_a", "testbed_market_b", "testbed_market_c", "testbed_forum",
            "testbed_hostile"} <= set(profiles)
    assert profiles["testbed_market_b"].fetch == "browser"
    assert profiles["testbed_market_c"].is_onion and profiles["testbed_market_c"].proxy != "none"


def test_misspelt_field_names_file_line_and_field():
    text = _text("http://market.example/").replace("title: h1", "titel: h1")
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "sites/x.yaml")
    assert "sites/x.yaml:8: pages.listing.fields.titel: unknown field" in str(err.value)
    assert "pages.listing.fields.title: field required" in str(err.value)
