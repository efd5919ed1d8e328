"""Anonymity, checked at the packet level: with the Tor proxy down or misconfigured, a crawl of the onion
market sends no packet to any non-loopback address and never looks the onion name up, in both fetch modes
(plain HTTP and headless Chromium).

How: the crawl runs in a private network namespace (`unshare -n`, root only) whose only way out is a veth
pair: every non-loopback packet (TCP, UDP, DNS to the resolver in /etc/resolv.conf) leaves through `nw0`
and is captured on its peer `nw1` with an AF_PACKET socket. A canary packet sent on purpose proves the
capture sees what leaves. The crawl process also carries a Python audit hook (every connect and
getaddrinfo), which sees attempts the kernel refuses before any packet (e.g. IPv6 with no route).

Profiles cannot aim the crawler at loopback or private addresses unless their allow-list says
`private: true` (crawler/egress.py): tested here on the policy and on a real crawl whose base URL is the
testbed on loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/lib/chromium/chromium"

AUDIT = r'''
import json, sys
log = open(sys.argv[1], "a", buffering=1)
def hook(event, args):
    if event == "socket.connect":
        addr = args[1]
        log.write(json.dumps({"event": "connect", "addr": list(addr) if isinstance(addr, tuple) else str(addr)}) + "\n")
    elif event == "socket.getaddrinfo":
        log.write(json.dumps({"event": "getaddrinfo", "host": str(args[0])}) + "\n")
    elif event == "socket.sendto":
        addr = args[1]
        log.write(json.dumps({"event": "sendto", "addr": list(addr) if isinstance(addr, tuple) else str(addr)}) + "\n")
sys.addaudithook(hook)
sys.argv = ["narcowatch"] + sys.argv[2:]
from narcowatch.cli import main
main()
'''


def _can_unshare() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    probe = subprocess.run(["unshare", "-n", "ip", "link", "add", "t0", "type", "veth", "peer", "name", "t1"],
                           capture_output=True)
    return probe.returncode == 0


needs_netns = pytest.mark.skipif(not _can_unshare(), reason="needs root, unshare -n and veth (network namespaces)")


# ------------------------------------------------------------------------ runs inside the namespace


def _sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _setup_network() -> None:
    _sh("ip", "link", "set", "lo", "up")
    _sh("ip", "link", "add", "nw0", "type", "veth", "peer", "name", "nw1")
    for dev in ("nw0", "nw1"):
        # no IPv6 on the veth: its autoconfiguration chatter (router solicitations) would be noise; an IPv6
        # attempt then fails with no packet at all, and the audit hook still records it
        Path(f"/proc/sys/net/ipv6/conf/{dev}/disable_ipv6").write_text("1")
        _sh("ip", "link", "set", dev, "up")
    _sh("ip", "addr", "add", "10.99.0.1/24", "dev", "nw0")
    # /sys still shows the parent namespace's devices: ask `ip` for the peer's address
    mac = json.loads(subprocess.run(["ip", "-j", "link", "show", "nw1"], check=True, capture_output=True,
                                    text=True).stdout)[0]["address"]
    _sh("ip", "neigh", "replace", "10.99.0.254", "lladdr", mac, "dev", "nw0", "nud", "permanent")
    _sh("ip", "route", "add", "default", "via", "10.99.0.254", "dev", "nw0")


class Sniffer:
    """Every frame that reaches nw1, summarised (ethertype, addresses, ports, whether it names an onion)."""

    def __init__(self, needle: bytes):
        self.needle = needle
        self.frames: list[dict] = []
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
        self.sock.bind(("nw1", 0))
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                frame = self.sock.recv(65535)
            except TimeoutError:
                continue
            ethertype = struct.unpack("!H", frame[12:14])[0]
            info: dict = {"ethertype": hex(ethertype), "len": len(frame), "onion": self.needle in frame.lower()}
            if ethertype == 0x0800:
                ip = frame[14:]
                proto, dst = ip[9], socket.inet_ntoa(ip[16:20])
                ihl = (ip[0] & 0x0F) * 4
                info.update(proto=proto, dst=dst)
                if proto in (6, 17):
                    info["dport"] = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
            self.frames.append(info)

    def close(self) -> list[dict]:
        time.sleep(0.5)
        self.stop.set()
        self.thread.join()
        self.sock.close()
        return self.frames


def _crawl(home: Path, name: str, args: list[str], timeout: float = 240) -> dict:
    from test_crawl_support import crawl_env

    log = home / f"{name}.jsonl"
    script = home / "audited.py"
    script.write_text(AUDIT, encoding="utf-8")
    env = crawl_env(home)
    env["NARCOWATCH_CHROMIUM"] = CHROMIUM
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(script), str(log), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return {"name": name, "rc": proc.returncode, "stderr": proc.stderr[-2500:], "stdout": proc.stdout[-1500:],
            "events": events, "seconds": round(time.monotonic() - started, 1)}


def _not_socks_server() -> int:
    """A loopback port where something that is not a SOCKS proxy answers (a web server's error page)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)

    def serve() -> None:
        while True:
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


def probe(out: Path, wanted: list[str]) -> None:
    """Entry point inside `unshare -n`: set up the namespace, run every scenario, write the findings."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_crawl_support import PROFILE, run_cli

    from testbed.server import Testbed

    _setup_network()
    results: dict = {"scenarios": []}
    with Testbed(day=1) as tb:
        onion = tb.onion_host.encode()
        sniffer = Sniffer(onion)
        # canary: a UDP datagram to a TEST-NET address must show up, or the capture proves nothing
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"canary " + onion, ("203.0.113.9", 9))
        time.sleep(0.3)
        results["canary"] = [f for f in sniffer.frames if f.get("dst") == "203.0.113.9"]
        sniffer.frames.clear()

        home = out.parent / "home"
        home.mkdir()
        run_cli(home, "db", "upgrade")
        site = PROFILE["market_c"]
        proxy_port = int(tb.proxy_url.rsplit(":", 1)[1])
        modes = ["http", "browser"]
        # misconfigured: the proxy URL names a port where an HTTP server (not SOCKS) answers
        http_port = _not_socks_server()
        scenarios = []
        for mode in modes:
            scenarios += [(f"{mode}-proxy-down", mode, tb.proxy_url, True),
                          (f"{mode}-proxy-not-socks", mode, f"socks5h://127.0.0.1:{http_port}", False),
                          (f"{mode}-proxy-socks5-scheme", mode, f"socks5://127.0.0.1:{proxy_port}", True)]
        for name, mode, proxy, stop in scenarios:
            if name not in wanted:
                continue
            if stop:
                tb.stop_proxy()
            try:
                sniffer.frames.clear()
                result = _crawl(home, name, ["crawl", site, "--fetch", mode, "--proxy", proxy])
                result["frames"] = list(sniffer.frames)
                result["proxy"] = proxy
            finally:
                if stop:
                    tb.start_proxy()
            results["scenarios"].append(result)
        # an invalid proxy setting is refused before anything starts
        sniffer.frames.clear()
        bad = _crawl(home, "proxy-invalid-scheme", ["crawl", site, "--proxy", "http://127.0.0.1:3128"])
        bad["frames"] = list(sniffer.frames)
        results["scenarios"].append(bad)
        results["late_frames"] = sniffer.close()
        results["onion"] = tb.onion_host
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")


# ------------------------------------------------------------------------ the tests


def _run_probe(tmp_path: Path, scenarios: list[str]) -> dict:
    out = tmp_path / "probe.json"
    proc = subprocess.run(["unshare", "-n", sys.executable, __file__, "--probe", str(out), *scenarios],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and out.exists(), proc.stderr[-4000:]
    return json.loads(out.read_text())


def _check(results: dict) -> list[str]:
    problems = []
    assert results["canary"], "the packet capture saw no canary: it would not see a leak either"
    for sc in results["scenarios"]:
        name = sc["name"]
        if sc["rc"] == 0:
            problems.append(f"{name}: the crawl succeeded without a working proxy?\n{sc['stdout']}")
        leaked = [f for f in sc["frames"] if f.get("ethertype") != "0x806"]  # ARP cannot carry data
        if leaked:
            problems.append(f"{name}: {len(leaked)} packet(s) left the machine: {leaked[:5]}")
        for e in sc["events"]:
            if e["event"] == "getaddrinfo" and ".onion" in e["host"].lower():
                problems.append(f"{name}: the onion name was looked up locally: {e}")
            if e["event"] in ("connect", "sendto") and isinstance(e["addr"], list) and e["addr"]:
                host = str(e["addr"][0])
                if not (host.startswith("127.") or host == "::1"):
                    problems.append(f"{name}: connect/sendto to a non-loopback address: {e}")
            if e["event"] == "getaddrinfo" and e["host"] not in ("127.0.0.1", "localhost", "::1", "None"):
                problems.append(f"{name}: a name lookup of {e['host']!r}")
        text = (sc["stderr"] + sc["stdout"]).lower()
        if "proxy" not in text and "socks" not in text:
            problems.append(f"{name}: the failure does not say the proxy is the problem:\n{sc['stderr']}")
    if [f for f in results["late_frames"] if f.get("ethertype") != "0x806"]:
        problems.append(f"packets after the scenarios: {results['late_frames'][:5]}")
    return problems


@needs_netns
@pytest.mark.timeout(600)
def test_no_packet_leaves_and_no_onion_lookup_when_proxy_down_or_misconfigured_http(tmp_path):
    results = _run_probe(tmp_path, ["http-proxy-down", "http-proxy-not-socks"])
    problems = _check(results)
    assert problems == [], "\n".join(problems)
    names = {sc["name"]: sc for sc in results["scenarios"]}
    assert names["http-proxy-down"]["rc"] == 1 and "FAILED" in names["http-proxy-down"]["stderr"]
    invalid = names["proxy-invalid-scheme"]
    assert invalid["rc"] != 0 and "socks5h://" in invalid["stderr"] + invalid["stdout"]
    # the only connects ever attempted were to the proxy's own loopback address
    for sc in results["scenarios"]:
        for e in sc["events"]:
            if e["event"] == "connect" and isinstance(e["addr"], list):
                assert e["addr"][0] == "127.0.0.1", (sc["name"], e)


@needs_netns
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
@pytest.mark.timeout(900)
def test_no_packet_leaves_in_any_fetch_mode_and_misconfiguration(tmp_path):
    wanted = [f"{mode}-{what}" for mode in ("http", "browser")
              for what in ("proxy-down", "proxy-not-socks", "proxy-socks5-scheme")]
    results = _run_probe(tmp_path, wanted)
    problems = _check(results)
    assert problems == [], "\n".join(problems)
    assert {sc["name"] for sc in results["scenarios"]} == {*wanted, "proxy-invalid-scheme"}


# ------------------------------------------------------------------------ private/loopback allow-list


def _profile(base_url: str, private: bool | None, hosts: list[str] | None = None):
    from crawler.profile import parse_profile

    allow = ""
    if private is not None or hosts:
        allow = "allow:\n" + (f"  private: {str(private).lower()}\n" if private is not None else "")
        allow += (f"  hosts: {json.dumps(hosts)}\n" if hosts else "")
    text = (f"name: Lab\nkind: market\nbase_url: {base_url}\n{allow}"
            "pages:\n  listing:\n    fields:\n      external_id: '#id'\n      title: h1\n")
    if private is True:
        return parse_profile(text, "lab_site.yaml")
    # a profile whose base URL is private does not even load without the allow-list (tested in
    # tests/test_crawl_profiles.py); the egress policy is tested on one loaded with it, then switched off
    loaded = parse_profile(text.replace("kind: market\n", "kind: market\nallow: {private: true}\n")
                           if not allow else text.replace("allow:\n", "allow:\n  private: true\n", 1)
                           .replace(f"  private: {str(private).lower()}\n", "", 1), "lab_site.yaml")
    loaded.allow.private = private or False
    return loaded


@pytest.mark.parametrize("url", ["http://127.0.0.1:5432/", "http://10.0.0.1/", "http://192.168.1.1/admin",
                                 "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]:8080/", "http://localhost/", "http://[fd00::1]/",
                                 "http://0.0.0.0/", "http://100.64.0.1/"])
def test_private_and_loopback_targets_refused_without_allow_list(url):
    from crawler.egress import Policy

    profile = _profile(url, None)
    reason = Policy(profile).refusal(url)
    assert reason and "private" in reason, (url, reason)
    assert Policy(_profile(url, True)).refusal(url) is None  # the explicit allow-list opens it


def test_allowed_public_host_still_cannot_reach_private_addresses():
    from crawler.egress import Policy

    policy = Policy(_profile("http://market.example/", False, ["127.0.0.1:8080", "10.1.2.3"]))
    assert policy.refusal("http://market.example/listing/1") is None
    assert "private" in policy.refusal("http://127.0.0.1:8080/")
    assert "private" in policy.refusal("http://10.1.2.3/")
    assert "not allowed" in policy.refusal("http://127.0.0.2:8080/")
    assert "scheme" in policy.refusal("file:///etc/passwd")


@pytest.mark.timeout(180)
def test_crawl_of_a_loopback_site_without_allow_list_fetches_nothing(tmp_path):
    """A profile aimed at the testbed on loopback but without `private: true`: no request reaches it."""
    from test_crawl_support import SITES, crawl_env, run_cli

    from testbed.server import Testbed

    text = (SITES / "testbed_market_a.yaml").read_text(encoding="utf-8")
    assert "private: true" in text
    profile = tmp_path / "sites" / "lab_market.yaml"
    profile.parent.mkdir()
    profile.write_text(text.replace("private: true", "private: false"), encoding="utf-8")
    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    with Testbed(day=1) as tb:
        tb.clear_logs()
        env = crawl_env(home)
        proc = subprocess.run([sys.executable, "-m", "narcowatch", "crawl", str(profile), "--base-url",
                               tb.url("market_a") + "/", "--max-pages", "20"], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=150)
        hits = tb.request_log("market_a")
    assert hits == [], f"{len(hits)} request(s) reached a loopback site the profile did not allow: {hits[:3]}"
    assert proc.returncode != 0 or "0 pages" in proc.stdout, proc.stdout + proc.stderr[-2000:]


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--probe":
        sys.path.insert(0, str(ROOT))
        probe(Path(sys.argv[2]), sys.argv[3:])
