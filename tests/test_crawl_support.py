"""Helpers for the crawl tests (no tests here): run a crawl in a subprocess, compare stored rows with the
testbed's answer key field by field.

Countries: the answer key shows them as each page does (names on A and C, ISO codes on B); the stored
rows hold ISO codes. The name -> code table used here is the testbed's own (testbed.vocab), not the
crawler's normaliser, so a normaliser bug shows up as a mismatch.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin

from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
SITES = ROOT / "sites"
PROFILE = {"market_a": "testbed_market_a", "market_b": "testbed_market_b", "market_c": "testbed_market_c",
           "forum": "testbed_forum", "hostile": "testbed_hostile"}


def country_codes() -> dict[str, str]:
    from testbed import vocab

    table = {name: code for name, code, _lang in vocab.COUNTRIES}
    for names, codes in vocab.SHIPS_TO:
        table.update(dict(zip(names, codes, strict=True)))
    return table


def code(value: str | None, table: dict[str, str]) -> str | None:
    return None if value is None else table.get(value, value)


def crawl_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NARCOWATCH_")}
    env.update({"NARCOWATCH_HOME": str(home), "NARCOWATCH_SITES_DIR": str(SITES), "NARCOWATCH_LOG_LEVEL": "WARNING"})
    return env


def run_cli(home: Path, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "narcowatch", *args], env=crawl_env(home), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"narcowatch {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def engine_for(home: Path):
    from storage.db import make_engine

    return make_engine(f"sqlite:///{home / 'narcowatch.db'}")


def site_id(session: Session, slug: str) -> int:
    from storage.models import Site

    return session.scalars(select(Site.id).where(Site.slug == slug)).one()


def compare_listings(session: Session, slug: str, key_rows: list[dict], base: str) -> list[str]:
    """Every difference between stored active listings of `slug` and the key's rows (empty: identical)."""
    from storage.models import Listing, VendorAccount

    table = country_codes()
    sid = site_id(session, slug)
    stored = {li.external_id: li for li in session.scalars(select(Listing).where(Listing.site_id == sid,
                                                                                  Listing.active.is_(True)))}
    handles = {i: h for i, h in session.execute(select(VendorAccount.id, VendorAccount.handle).where(
        VendorAccount.site_id == sid))}
    problems = []
    keyed = {r["external_id"]: r for r in key_rows}
    for missing in sorted(set(keyed) - set(stored)):
        problems.append(f"{slug} listing {missing}: not stored")
    for extra in sorted(set(stored) - set(keyed)):
        problems.append(f"{slug} listing {extra}: stored and active but not in the key")
    # quantities as the key shows them: market B writes numbers the German way ("3,5", "1.000" = 1000)
    number = (lambda q: Decimal(q.replace(".", "").replace(",", "."))) if slug.endswith("market_b") \
        else (lambda q: Decimal(q))
    for ext in sorted(set(keyed) & set(stored)):
        r, li = keyed[ext], stored[ext]
        want = {
            "url": urljoin(base, r["url"]), "title": r["title"], "description": r["description"],
            "price": Decimal(r["price_value"]), "currency": r["currency"],
            "quantity": float(number(r["quantity"])), "unit": r["unit"],
            "ships_from": code(r["ships_from"], table), "ships_to": [code(c, table) for c in r["ships_to"]],
            "stock": r["stock"], "vendor": r["vendor"],
            "price_options": [(number(o["quantity"]), o["unit"], Decimal(o["price_value"]))
                              for o in r["price_options"]],
        }
        got = {
            "url": li.url, "title": li.title, "description": li.description,
            "price": li.price.normalize() if li.price is not None else None, "currency": li.currency,
            "quantity": li.quantity, "unit": li.unit, "ships_from": li.ships_from, "ships_to": li.ships_to,
            "stock": li.stock, "vendor": handles.get(li.vendor_account_id),
            "price_options": [(Decimal((o.get("quantity") or "nan").replace(",", ".")), o.get("unit"),
                               Decimal(o["price"]) if o.get("price") else None) for o in (li.price_options or [])],
        }
        want["price"] = want["price"].normalize()
        want["price_options"] = [(q.normalize(), u, p.normalize()) for q, u, p in want["price_options"]]
        got["price_options"] = [(q.normalize(), u, p.normalize() if p is not None else None)
                                for q, u, p in got["price_options"]]
        for field, value in want.items():
            if got[field] != value:
                problems.append(f"{slug} listing {ext} {field}: stored {got[field]!r}, key {value!r}")
        if li.page_id is None:
            problems.append(f"{slug} listing {ext}: no page")
    return problems


def compare_vendors(session: Session, slug: str, key_rows: list[dict], base: str) -> list[str]:
    from storage.models import VendorAccount, VendorIdentifier

    table = country_codes()
    sid = site_id(session, slug)
    stored = {v.handle: v for v in session.scalars(select(VendorAccount).where(VendorAccount.site_id == sid))}
    problems = []
    for r in key_rows:
        v = stored.get(r["handle"])
        if v is None:
            problems.append(f"{slug} vendor {r['handle']!r}: not stored")
            continue
        idents = {(k, val) for k, val in session.execute(select(VendorIdentifier.kind, VendorIdentifier.value).where(
            VendorIdentifier.account_id == v.id))}
        profile = v.profile or {}
        want_ids = {(k, val) for k, val in r["contacts"].items()} | {("btc" if not w.startswith("4") else "xmr", w)
                                                                      for w in r["wallets"]}
        # the fingerprint the page states, or else the one the crawler computes from the key block it shows
        fingerprint = r["pgp_fingerprint"] or (r.get("pgp_key_fingerprint") if r["pgp_key"] else None)
        if fingerprint:
            want_ids.add(("pgp", fingerprint))
        checks = {
            "url": (v.url, urljoin(base, r["url"])),
            "identifiers": (idents, want_ids),
            "pgp_key": (profile.get("pgp_key"), r["pgp_key"]),
            "terms": (profile.get("terms"), r["terms"]),
            "member_since": (profile.get("member_since"), r["member_since"]),
            "ships_from": (code(profile.get("ships_from"), table), code(r["ships_from"], table)),
            "feedback": ((profile.get("feedback_positive"), profile.get("feedback_neutral"),
                          profile.get("feedback_negative")),
                         tuple(str(r["feedback"][k]) for k in ("positive", "neutral", "negative"))),
        }
        for field, (got, want) in checks.items():
            if got != want:
                problems.append(f"{slug} vendor {r['handle']!r} {field}: stored {got!r}, key {want!r}")
        if v.page_id is None:
            problems.append(f"{slug} vendor {r['handle']!r}: no page")
    extra = set(stored) - {r["handle"] for r in key_rows}
    problems += [f"{slug} vendor {h!r}: stored but not in the key" for h in sorted(extra)]
    return problems


def compare_posts(session: Session, slug: str, key: dict) -> list[str]:
    from storage.models import Post, Thread

    sid = site_id(session, slug)
    threads = {t.external_id: t for t in session.scalars(select(Thread).where(Thread.site_id == sid))}
    posts = {p.external_id: p for p in session.scalars(select(Post).where(Post.site_id == sid))}
    thread_ext = {t.id: t.external_id for t in threads.values()}
    problems = []
    for t in key["threads"]:
        got = threads.get(str(t["thread_id"]))
        if got is None:
            problems.append(f"thread {t['thread_id']}: not stored")
            continue
        for field, want in (("title", t["title"]), ("board", t["board"])):
            if getattr(got, field) != want:
                problems.append(f"thread {t['thread_id']} {field}: stored {getattr(got, field)!r}, key {want!r}")
    for p in key["posts"]:
        got = posts.get(str(p["post_id"]))
        if got is None:
            problems.append(f"post {p['post_id']}: not stored")
            continue
        want = {"thread": str(p["thread_id"]), "author": p["author"], "text": p["text"], "lang": p["lang"],
                "posted_at": p["posted_at"], "signature": p["signature"],
                "quotes": [{"post_id": str(q["post_id"]), "author": q["author"], "text": q["text"]}
                           for q in p["quotes"]]}
        have = {"thread": thread_ext.get(got.thread_id), "author": got.author, "text": got.text, "lang": got.lang,
                "posted_at": got.posted_at.strftime("%Y-%m-%dT%H:%M:%SZ") if got.posted_at else None,
                "signature": got.signature, "quotes": got.quotes or []}
        for field, value in want.items():
            if have[field] != value:
                problems.append(f"post {p['post_id']} {field}: stored {have[field]!r}, key {value!r}")
        if got.page_id is None:
            problems.append(f"post {p['post_id']}: no page")
    extra = set(posts) - {str(p["post_id"]) for p in key["posts"]}
    problems += [f"post {e}: stored but not in the key" for e in sorted(extra)]
    return problems


# ------------------------------------------------------------------ memory of a process tree (no psutil)


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("latin-1")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree_rss_bytes(pid: int) -> int:
    """Memory of `pid` and every descendant (Chromium's renderers included), from /proc: the proportional set
    size (PSS), i.e. resident memory with each shared page divided among the processes sharing it, so the
    sum is what the tree really occupies (summing RSS would count Chromium's shared pages once per process)."""
    kids = _children()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += kids.get(p, [])
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_measured(home: Path, *args: str, timeout: float = 600, argv: list[str] | None = None,
                 ) -> tuple[subprocess.CompletedProcess, int]:
    """Run `narcowatch ARGS` (or `argv`) sampling the process tree's resident memory every 0.2 s; returns the
    completed process and the peak in bytes."""
    import tempfile
    import time

    cmd = argv or [sys.executable, "-m", "narcowatch", *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=crawl_env(home), cwd=ROOT, stdout=out, stderr=err)
        peak, deadline = 0, time.monotonic() + timeout
        while proc.poll() is None:
            peak = max(peak, tree_rss_bytes(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                break
            time.sleep(0.2)
        proc.wait()
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(cmd, proc.returncode, out.read().decode("utf-8", "replace"),
                                           err.read().decode("utf-8", "replace"))
    return done, peak
