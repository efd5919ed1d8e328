"""Load testbed answer keys into a fresh database the way a perfect crawler would have stored them.

Day d is crawled at 06:00 UTC on its date (day 1 = 2026-09-28, a Monday): each site that is up gets a
finished CrawlRun with every listing, vendor, thread and post the answer key shows; a site that is down
gets a failed CrawlRun and nothing else. Values are normalised as the storage contract says (ISO country
codes, quantities in grams/ml/units, price per gram/ml/unit in the listing's currency). The key's ground
truth (category, substances) stands in for a perfect extractor. Report tests compute their expectations
from the same JSON, independently of reports/.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy.orm import Session

from storage.models import ClusterMember, CrawlRun, VendorCluster
from storage.records import ListingRecord, PostRecord, ThreadRecord, VendorRecord
from storage.upsert import (
    ListingInput,
    finish_run,
    get_or_create_site,
    mark_vanished,
    upsert_listings,
    upsert_post,
    upsert_thread,
    upsert_vendor,
)
from testbed import answer_key
from testbed.vocab import COUNTRIES, SHIPS_TO

CRAWL_HOUR = 6
LOADED_SITES = ("market_a", "market_b", "market_c", "forum")  # the hostile site has no market data
NAME_TO_CODE = {name: code for name, code, _lang in COUNTRIES}
SHIPS_TO_CODES = {names: codes for names, codes in SHIPS_TO}
# stored unit and how many of it one displayed unit is
UNITS = {"g": ("g", 1), "kg": ("g", 1000), "ml": ("ml", 1), "L": ("ml", 1000)}


def crawl_time(day_iso: str) -> datetime:
    return datetime.combine(date.fromisoformat(day_iso), time(CRAWL_HOUR), tzinfo=UTC)


def quantity(site: str, text: str) -> Decimal:
    """'3.5' (A, C) or '3,5' / '1.000' (B's continental format) -> Decimal."""
    return Decimal(text.replace(".", "").replace(",", ".") if site == "market_b" else text)


def normalised(record: dict) -> tuple[float, str, Decimal]:
    """(quantity in g/ml/units, unit g|ml|unit, price per that unit in the listing's currency)."""
    unit, factor = UNITS.get(record["unit"], ("unit", 1))
    q = quantity(record["site"], record["quantity"]) * factor
    return float(q), unit, Decimal(record["price_value"]) / q


def country(site: str, shown: str) -> str:
    return shown if site == "market_b" else NAME_TO_CODE[shown]


def destinations(site: str, shown: list[str]) -> list[str]:
    return list(shown) if site == "market_b" else list(SHIPS_TO_CODES[tuple(shown)])


class AnswerKeyLoader:
    def __init__(self, session: Session, seed: int | None = None) -> None:
        self.session = session
        self.seed = seed
        self.site_ids: dict[str, int] = {}
        self.posts_loaded: set[int] = set()
        # re-sightings of vendors and threads would only move their last_seen, which reports never read:
        # skipping them keeps a 14-day load fast
        self.vendor_ids: dict[tuple[str, str], int] = {}
        self.thread_ids: dict[int, int] = {}
        self.keys: dict[int, dict] = {}

    def key(self, day: int) -> dict:
        if day not in self.keys:
            self.keys[day] = answer_key(day=day) if self.seed is None else answer_key(self.seed, day)
        return self.keys[day]

    def load_days(self, days) -> None:
        for day in days:
            self.load_day(day)

    def load_day(self, day: int) -> None:
        key, s = self.key(day), self.session
        at = crawl_time(key["date"])
        for site in key["sites"]:
            slug = site["id"]
            if slug not in LOADED_SITES:
                continue
            row = get_or_create_site(s, slug, site["name"], "forum" if slug == "forum" else "market",
                                     f"http://{slug}.testbed.invalid/", is_onion="onion" in site)
            self.site_ids[slug] = row.id
            run = CrawlRun(site_id=row.id, started_at=at, status="running")
            s.add(run)
            s.flush()
            if not site["up"]:
                finish_run(s, run, "failed", at, "site unreachable (testbed down day)")
                continue
            if slug == "forum":
                self._forum(key, row.id, at)
            else:
                self._market(key, slug, row.id, run.id, at)
            finish_run(s, run, "finished", at)
        s.commit()
        s.expunge_all()  # a day's objects are not needed again; a small identity map keeps flushes fast

    def _market(self, key: dict, slug: str, site_id: int, run_id: int, at: datetime) -> None:
        vendor_ids = {handle: aid for (site, handle), aid in self.vendor_ids.items() if site == slug}
        for v in key["vendors"]:
            if v["site"] != slug or v["handle"] in vendor_ids:
                continue
            ids = [("pgp", v["pgp_fingerprint"])] if v["pgp_fingerprint"] else []
            ids += [("btc" if w.startswith(("bc1", "1", "3")) else "xmr", w) for w in v["wallets"]]
            account, _ = upsert_vendor(self.session, site_id, VendorRecord(handle=v["handle"], url=v["url"],
                                                                           identifiers=ids), at)
            vendor_ids[v["handle"]] = self.vendor_ids[(slug, v["handle"])] = account.id
        items = []
        for r in key["listings"]:
            if r["site"] != slug:
                continue
            if r["vendor"] not in vendor_ids:
                account = upsert_vendor(self.session, site_id, VendorRecord(handle=r["vendor"]), at)[0]
                vendor_ids[r["vendor"]] = self.vendor_ids[(slug, r["vendor"])] = account.id
            q, unit, ppu = normalised(r)
            record = ListingRecord(
                external_id=r["external_id"], url=r["url"], title=r["title"], description=r["description"],
                price=Decimal(r["price_value"]), currency=r["currency"], quantity=q, unit=unit, price_per_unit=ppu,
                ships_from=country(slug, r["ships_from"]), ships_to=destinations(slug, r["ships_to"]),
                stock=r["stock"], vendor_handle=r["vendor"], category=r["category"], substances=r["substances"])
            items.append(ListingInput(record, None, vendor_ids[r["vendor"]]))
        upsert_listings(self.session, site_id, items, at, run_id)
        mark_vanished(self.session, site_id, run_id, at)

    def _forum(self, key: dict, site_id: int, at: datetime) -> None:
        threads = self.thread_ids
        for t in key["threads"]:
            if t["thread_id"] in threads:
                continue
            threads[t["thread_id"]] = upsert_thread(self.session, site_id, ThreadRecord(
                external_id=str(t["thread_id"]), title=t["title"], url=t["url"], board=t["board"]), at).id
        for p in key["posts"]:
            if p["post_id"] in self.posts_loaded:
                continue  # posts do not change once shown; a re-crawl would only rewrite the same values
            posted = datetime.fromisoformat(p["posted_at"].replace("Z", "+00:00"))
            upsert_post(self.session, site_id, threads[p["thread_id"]], PostRecord(
                external_id=str(p["post_id"]), thread_external_id=str(p["thread_id"]), author=p["author"],
                text=p["text"], posted_at=posted, lang=p["lang"], substances=p["substances"]), at)
            self.posts_loaded.add(p["post_id"])

    def store_actor_clusters(self, day: int) -> None:
        """A perfect vendor clustering: one cluster per actor with two or more market accounts stored."""
        from sqlalchemy import select

        from storage.models import Site, VendorAccount
        s = self.session
        stored = {(slug, handle): aid for aid, slug, handle in s.execute(
            select(VendorAccount.id, Site.slug, VendorAccount.handle).join(Site))}
        for actor in self.key(day)["actors"]:
            members = sorted({stored[(a["site"], a["handle"])] for a in actor["accounts"]
                              if (a["site"], a["handle"]) in stored})
            if len(members) < 2:
                continue
            s.add(VendorCluster(id=actor["actor_id"], confidence=1.0, size=len(members)))
            s.flush()
            s.add_all([ClusterMember(account_id=m, cluster_id=actor["actor_id"]) for m in members])
        s.commit()
