"""Distributed crawling: scrapy-redis holds the shared request queue and duplicate filter, `narcowatch
worker` processes (on one or many machines) consume it, `narcowatch crawl SITE --distributed` seeds it.

What scrapy-redis gives as is: the priority queue (a sorted set), the duplicate filter (a set of request
fingerprints), request serialisation. What it lacks, added here as thin adapters on its classes:

- Leases. scrapy-redis pops a request and forgets it: a worker killed with requests in flight loses them.
  Here a pop moves the request atomically (Lua) from the queue into a lease hash owned by the worker; the
  lease is acknowledged only after the batch holding that page's records and evidence is committed
  (crawler.distributed_store). Every worker refreshes a heartbeat key; any worker requeues the leases of a
  worker whose heartbeat expired. A request is therefore fetched at least once; the stores are idempotent
  upserts, so twice does no harm.
- Atomic enqueue. "seen" (duplicate filter) and "queued" are set in one Lua call, so a worker killed
  between the two cannot mark a page seen that is in no queue.
- Completion. A crawl is complete when its queue and its lease hash are both empty: every request ever
  queued was handled and committed. The worker that sees it first (a Redis lock) closes the CrawlRun.
- Politeness across workers: `SharedRateLimit` reserves send times from one Redis key per site, so all
  workers together keep the profile's delay between requests.

Redis keys all start with NARCOWATCH_REDIS_PREFIX (`narcowatch:`); `Keys` lists them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.python.failure import Failure

from crawler.profile import Profile, parse_profile
from crawler.spider import SiteSpider

logger = logging.getLogger(__name__)


class DistributedError(RuntimeError):
    """A problem with the shared queue a user can act on; the message says what to do."""


def safe_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def connect(url: str) -> redis.Redis:
    """A Redis client, checked: an unreachable server is an error that names the URL."""
    client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, retry_on_timeout=True)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise DistributedError(f"cannot reach Redis at {safe_url(url)} ({exc}); start Redis or fix "
                               "NARCOWATCH_REDIS_URL") from exc
    return client


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Keys:
    """Every Redis key of one site's distributed crawl."""

    prefix: str
    slug: str

    def _k(self, name: str) -> str:
        return f"{self.prefix}:crawl:{self.slug}:{name}"

    @property
    def queue(self) -> str:  # scrapy-redis priority queue (sorted set of pickled requests)
        return self._k("requests")

    @property
    def dupefilter(self) -> str:  # scrapy-redis duplicate filter (set of fingerprints)
        return self._k("dupefilter")

    @property
    def leases(self) -> str:  # lease id -> pickled request in flight
        return self._k("leases")

    @property
    def owners(self) -> str:  # lease id -> "worker|score"
        return self._k("owners")

    @property
    def lease_seq(self) -> str:
        return self._k("lease-seq")

    @property
    def state(self) -> str:  # run_id, profile text and path, overrides, failed, final (the closing worker)
        return self._k("state")

    @property
    def stats(self) -> str:  # counters added by every worker (listings, posts, index_errors, ...)
        return self._k("stats")

    @property
    def result(self) -> str:  # the closed run's summary, kept a week for `crawl --distributed` to read
        return self._k("result")

    @property
    def rate(self) -> str:  # next free send time of the site, shared by every crawl of it
        return f"{self.prefix}:rate:{self.slug}"

    def crawl_keys(self) -> list[str]:
        return [self.queue, self.dupefilter, self.leases, self.owners, self.lease_seq, self.state, self.stats]


def registry_key(prefix: str) -> str:
    return f"{prefix}:crawls"  # set of site slugs with a distributed crawl waiting or running


def worker_key(prefix: str, worker_id: str) -> str:
    return f"{prefix}:worker:{worker_id}"


# pop the best request into a lease owned by ARGV[1]
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local id = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], id, r[1])
redis.call('HSET', KEYS[3], id, ARGV[1] .. '|' .. r[2])
return {id, r[1]}
"""
# seen + queued at once: ARGV = fingerprint, score, request
_ENQUEUE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""
# a lease back into the queue (its worker died or gave up); a lease already gone is left alone
_REQUEUE = """
local data = redis.call('HGET', KEYS[2], ARGV[1])
if not data then return 0 end
local owner = redis.call('HGET', KEYS[3], ARGV[1]) or '|0'
local score = string.match(owner, '|([^|]*)$') or '0'
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], score, data)
return 1
"""
# the final lock of run ARGV[1]: a field of the crawl's state, so it goes with the crawl; taken only while
# the registered crawl is still that run (after `finish` the state is gone and nobody gets the lock again)
_FINAL = """
if redis.call('HGET', KEYS[1], 'run_id') ~= ARGV[1] then return 0 end
return redis.call('HSETNX', KEYS[1], 'final', ARGV[2])
"""
_MARK_FAILED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[1])
"""
# one more page fetched by the fleet (ARGV[1]: the crawl's page cap, 0 for none): the new total, and the
# crawl's cap reason once it is capped (the cap reached here marks it: the first to reach it, once)
_COUNT_PAGE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, false} end
local n = redis.call('HINCRBY', KEYS[2], 'fetched', 1)
local cap = tonumber(ARGV[1])
if cap > 0 and n >= cap then redis.call('HSETNX', KEYS[1], 'capped', 'closespider_pagecount') end
return {n, redis.call('HGET', KEYS[1], 'capped')}
"""
# reserve the next send slot of a site: returns milliseconds to wait before sending
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, nxt)
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], at + interval, 'PX', interval * 4 + 60000)
return at - now
"""


class Coordinator:
    """One site's distributed crawl as seen through Redis (thread-safe: redis-py pools connections)."""

    def __init__(self, client: redis.Redis, prefix: str, slug: str):
        self.client = client
        self.prefix = prefix
        self.keys = Keys(prefix, slug)
        self._pop = client.register_script(_POP)
        self._enqueue = client.register_script(_ENQUEUE)
        self._requeue = client.register_script(_REQUEUE)
        self._reserve = client.register_script(_RESERVE)
        self._final = client.register_script(_FINAL)
        self._mark_failed = client.register_script(_MARK_FAILED)
        self._count_page = client.register_script(_COUNT_PAGE)

    # -- registration ----------------------------------------------------------------------------------
    def register(self, run_id: int, profile: Profile, overrides: dict[str, Any]) -> None:
        text = open(profile.path, encoding="utf-8").read() if profile.path else ""  # noqa: SIM115
        state = {"run_id": run_id, "profile_path": profile.path, "profile_text": text,
                 "overrides": json.dumps(overrides)}
        pipe = self.client.pipeline()
        pipe.delete(*self.keys.crawl_keys(), self.keys.result)
        pipe.hset(self.keys.state, mapping=state)
        pipe.sadd(registry_key(self.prefix), self.keys.slug)
        pipe.execute()

    def state(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.client.hgetall(self.keys.state).items()}

    def active(self) -> bool:
        return bool(self.client.sismember(registry_key(self.prefix), self.keys.slug))

    def profile(self) -> tuple[int, Profile]:
        """(run id, profile with the seeder's overrides) of the crawl waiting in Redis."""
        st = self.state()
        if not st:
            raise DistributedError(f"no distributed crawl of {self.keys.slug} is registered")
        profile = parse_profile(st["profile_text"], st["profile_path"] or f"{self.keys.slug}.yaml")
        overrides = json.loads(st.get("overrides") or "{}")
        if any(v is not None for v in overrides.values()):
            profile = profile.with_overrides(**overrides)
        return int(st["run_id"]), profile

    # -- queue -----------------------------------------------------------------------------------------
    def enqueue(self, fingerprint: str, score: float, data: bytes, dont_filter: bool = False) -> bool:
        if dont_filter:
            self.client.zadd(self.keys.queue, {data: score})
            return True
        return bool(self._enqueue(keys=[self.keys.dupefilter, self.keys.queue], args=[fingerprint, score, data]))

    def pop(self, worker_id: str) -> tuple[str, bytes] | None:
        got = self._pop(keys=[self.keys.queue, self.keys.leases, self.keys.owners, self.keys.lease_seq],
                        args=[worker_id])
        if not got:
            return None
        return str(int(got[0])), got[1]

    def ack(self, leases: list[str]) -> None:
        if leases:
            pipe = self.client.pipeline()
            pipe.hdel(self.keys.leases, *leases)
            pipe.hdel(self.keys.owners, *leases)
            pipe.execute()

    def requeue(self, lease: str) -> bool:
        return bool(self._requeue(keys=[self.keys.queue, self.keys.leases, self.keys.owners], args=[lease]))

    def leases_of(self, worker_id: str) -> list[str]:
        return [k.decode() for k, v in self.client.hgetall(self.keys.owners).items()
                if v.decode().rsplit("|", 1)[0] == worker_id]

    def reap(self) -> int:
        """Requeue the leases of workers whose heartbeat expired; returns how many."""
        owners = {k.decode(): v.decode().rsplit("|", 1)[0] for k, v in self.client.hgetall(self.keys.owners).items()}
        alive: dict[str, bool] = {}
        requeued = 0
        for lease, worker in owners.items():
            if worker not in alive:
                alive[worker] = bool(self.client.exists(worker_key(self.prefix, worker)))
            if not alive[worker] and self.requeue(lease):
                requeued += 1
        if requeued:
            logger.warning("%s: requeued %d request(s) of dead worker(s)", self.keys.slug, requeued)
        return requeued

    def pending(self) -> tuple[int, int]:
        """(queued, leased) requests."""
        pipe = self.client.pipeline()
        pipe.zcard(self.keys.queue)
        pipe.hlen(self.keys.leases)
        queued, leased = pipe.execute()
        return int(queued), int(leased)

    def complete(self) -> bool:
        return self.pending() == (0, 0)

    # -- outcome ---------------------------------------------------------------------------------------
    def add_stats(self, values: dict[str, int]) -> None:
        values = {k: v for k, v in values.items() if v}
        if values:
            pipe = self.client.pipeline()
            for k, v in values.items():
                pipe.hincrby(self.keys.stats, k, v)
            pipe.execute()

    def stats(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.client.hgetall(self.keys.stats).items()}

    def mark_failed(self, reason: str) -> None:
        # only into a registered crawl's state: a late worker must not leave a stray state hash behind
        self._mark_failed(keys=[self.keys.state], args=[reason, "failed"])

    def failed(self) -> str | None:
        value = self.client.hget(self.keys.state, "failed")
        return value.decode() if value else None

    # -- caps: the profile's page, item and time caps hold for the whole fleet, not per worker -----------
    def count_page(self, max_pages: int) -> tuple[int, str | None]:
        """Count one request about to be sent by the fleet; (requests so far, the cap reason once the crawl is
        capped: the page cap reached, or an item or time cap marked by a worker). Past the cap a request is
        not sent (crawler.politeness.PageCap)."""
        n, capped = self._count_page(keys=[self.keys.state, self.keys.stats], args=[max_pages])
        return int(n), capped.decode() if capped else None

    def mark_capped(self, reason: str) -> None:
        """A worker reached a cap (its Scrapy close reason: closespider_itemcount, closespider_timeout): the
        whole crawl stops there, as one process would."""
        self._mark_failed(keys=[self.keys.state], args=[reason, "capped"])

    def capped(self) -> str | None:
        value = self.client.hget(self.keys.state, "capped")
        return value.decode() if value else None

    def settled(self) -> bool:
        """Nothing in flight: every worker has committed or handed back what it took."""
        return self.pending()[1] == 0

    def take_final_lock(self, worker_id: str, run_id: int) -> bool:
        """True for exactly one caller per run, and only while that run is the registered crawl: a worker
        closing late (the run already finalised, maybe a new crawl of the site seeded) gets False."""
        return bool(self._final(keys=[self.keys.state], args=[str(run_id), worker_id]))

    def finish(self, result: dict[str, Any]) -> None:
        """Publish the result, forget the crawl (queue, filter, leases, state)."""
        pipe = self.client.pipeline()
        pipe.set(self.keys.result, json.dumps(result), ex=7 * 86400)
        pipe.srem(registry_key(self.prefix), self.keys.slug)
        pipe.delete(*self.keys.crawl_keys())
        pipe.execute()

    def result(self) -> dict[str, Any] | None:
        value = self.client.get(self.keys.result)
        return json.loads(value) if value else None

    # -- politeness ------------------------------------------------------------------------------------
    def reserve(self, interval: float) -> float:
        """Seconds to wait before sending so that the site sees at most one request per `interval`."""
        return int(self._reserve(keys=[self.keys.rate], args=[max(1, round(interval * 1000))])) / 1000.0


def active_slugs(client: redis.Redis, prefix: str) -> list[str]:
    return sorted(s.decode() for s in client.smembers(registry_key(prefix)))


# ---------------------------------------------------------------------- Scrapy components


@dataclass
class LeaseDone:
    """Sentinel item after a page's records: the page is handled once the batch holding it is committed."""

    lease: str


class WorkerSpider(SiteSpider):
    """The generic spider, fed by the shared queue: no start requests of its own (the seeder queued them);
    every handled page (records yielded, or error recorded) ends with a `LeaseDone`."""

    async def start(self) -> AsyncIterator[Request]:
        return
        yield  # pragma: no cover - an async generator that yields nothing

    def parse_page(self, response: Response) -> Iterator[Any]:
        try:
            yield from super().parse_page(response)
        except Exception as exc:  # noqa: BLE001 - recorded; the lease must still be released
            self.store.error(response.url, "parse", f"{type(exc).__name__}: {exc}",
                             response.meta.get("nw_page_type", "index"))
        lease = response.meta.get("nw_lease")
        if lease:
            yield LeaseDone(lease)

    def failed(self, failure: Failure) -> list[Any]:
        super().failed(failure)
        lease = failure.request.meta.get("nw_lease")
        return [LeaseDone(lease)] if lease else []


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop leases the request to this worker."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.coordinator: Coordinator = spider.crawler.nw_coordinator
        self.worker_id: str = spider.crawler.nw_worker_id

    def push(self, request: Request) -> None:
        self.coordinator.enqueue("", -request.priority, self._encode_request(request), dont_filter=True)

    def pop(self, timeout: int = 0) -> Request | None:
        got = self.coordinator.pop(self.worker_id)
        if got is None:
            return None
        lease, data = got
        request = self._decode_request(data)
        request.meta["nw_lease"] = lease
        return request


class LeasedScheduler(Scheduler):
    """scrapy-redis's scheduler with an atomic seen+queue step and lease hand-over on requeue."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeasedScheduler:
        instance = super().from_crawler(crawler)
        instance.coordinator = crawler.nw_coordinator
        return instance

    def enqueue_request(self, request: Request) -> bool:
        # a request coming back (retry, redirect) still carries the lease it was popped under: it is
        # handed over once the request is queued again (or known to be queued already)
        lease = request.meta.pop("nw_lease", None)
        data = self.queue._encode_request(request)
        if request.dont_filter:
            added = self.coordinator.enqueue("", -request.priority, data, dont_filter=True)
        else:
            added = self.coordinator.enqueue(self.df.request_fingerprint(request), -request.priority, data)
        if lease:
            self.coordinator.ack([lease])
        if not added:
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop()
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


class SharedRateLimit:
    """Downloader middleware: every request waits for its slot from the site's Redis key, so N workers
    together send at most one request per `politeness.delay` seconds to the site."""

    def __init__(self, coordinator: Coordinator, interval: float):
        self.coordinator = coordinator
        self.interval = interval
        self.late = 0  # slots given up because this process woke up too late for them

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedRateLimit:
        interval = crawler.settings.getfloat("NARCOWATCH_SHARED_DELAY")
        coordinator = getattr(crawler, "nw_coordinator", None)
        if interval <= 0 or coordinator is None:
            raise NotConfigured("no shared delay")
        return cls(coordinator, interval)

    async def process_request(self, request: Request) -> None:
        loop = asyncio.get_running_loop()
        # a slot is only good while it is current: a process that did not get the CPU in time (or a
        # request held up on its way here) would otherwise send with a stale slot, in a burst with others.
        # Late by at most a quarter of the delay: any two requests to the site leave >= 3/4 delay apart.
        late_ok = min(self.interval / 4, 0.25)
        for _ in range(100):
            # the slot falls between `asked + wait` and `answered + wait` (the thread hop to Redis can take a
            # while on a busy machine): sleep to the later bound (never early), judge lateness from the earlier
            # one (never underestimated)
            asked = loop.time()
            wait = await asyncio.to_thread(self.coordinator.reserve, self.interval)
            if wait > 0:
                await asyncio.sleep(wait)
            if loop.time() - (asked + wait) <= late_ok:
                return None
            self.late += 1
        return None


CAP_REASONS = ("closespider_pagecount", "closespider_itemcount", "closespider_timeout")


def worker_settings(values: dict[str, Any], keys: Keys, delay: float) -> dict[str, Any]:
    """A crawl's Scrapy settings turned into a worker's: scrapy-redis scheduling, shared politeness."""
    s = dict(values)
    s.update({
        # the page cap is the fleet's (crawler.politeness.PageCap counts requests sent in Redis); item and
        # time caps stay per worker, and the first worker to reach one stops the crawl
        "NARCOWATCH_SHARED_MAX_PAGES": s.get("CLOSESPIDER_PAGECOUNT", 0),
        "CLOSESPIDER_PAGECOUNT": 0,
        "SCHEDULER": "crawler.distributed.LeasedScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.distributed.LeasedQueue",
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # a worker leaving must not clear the queue of the others
        "SCHEDULER_FLUSH_ON_START": False,
        "NARCOWATCH_SHARED_DELAY": delay,
        # the shared limiter spaces requests; a per-worker delay on top would only slow the fleet down
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False if delay > 0 else s.get("AUTOTHROTTLE_ENABLED", False),
        "ITEM_PIPELINES": {"crawler.distributed_store.WorkerPipeline": 500},
    })
    mws = dict(s.get("DOWNLOADER_MIDDLEWARES") or {})
    # after the egress guard (50: refused never waits) and robots.txt (100: a request held there until
    # robots.txt arrives would otherwise leave with a stale slot, in a burst with the others)
    mws["crawler.distributed.SharedRateLimit"] = 110
    s["DOWNLOADER_MIDDLEWARES"] = mws
    return s


def encode_start_requests(coordinator: Coordinator, profile: Profile) -> int:
    """Queue the profile's start pages (seen + queued); returns how many were new."""
    spider = WorkerSpider(profile)
    df = RFPDupeFilter(coordinator.client, coordinator.keys.dupefilter)
    added = 0
    for url in profile.absolute_start_urls():
        request = spider.request(url, "index")
        data = picklecompat.dumps(request.to_dict(spider=spider))
        added += coordinator.enqueue(df.request_fingerprint(request), -request.priority, data)
    return added
