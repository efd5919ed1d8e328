"""Running a distributed crawl against the testbed for tests and the bench: a private PostgreSQL schema, a
private Redis key prefix, `narcowatch crawl --distributed --no-wait` to seed, N `narcowatch worker --burst`
subprocesses to crawl, and cleanup of both afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SITES = ROOT / "sites"


@dataclass
class Fleet:
    home: Path
    db_url: str
    redis_url: str
    prefix: str
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NARCOWATCH_")}
        env.update({"NARCOWATCH_HOME": str(self.home), "NARCOWATCH_SITES_DIR": str(SITES),
                    "NARCOWATCH_LOG_LEVEL": "WARNING", "NARCOWATCH_DATABASE_URL": self.db_url,
                    "NARCOWATCH_REDIS_URL": self.redis_url, "NARCOWATCH_REDIS_PREFIX": self.prefix,
                    "NARCOWATCH_EVIDENCE_DIR": str(self.home / "shared-evidence"),
                    "PYTHONWARNINGS": "ignore"})
        return env

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "narcowatch", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"narcowatch {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n"
                                 f"{proc.stderr[-4000:]}")
        return proc

    def seed(self, profile: str | Path, base_url: str, *extra: str) -> None:
        """Seed through the command line: `narcowatch crawl PROFILE --distributed --no-wait`."""
        self.cli("crawl", str(profile), "--base-url", base_url, "--distributed", "--no-wait", *extra)

    def seed_here(self, profile: str | Path, base_url: str, delay: float | None = None) -> int:
        """Seed from this process (what `seed` does without starting a Python); returns the run id."""
        from crawler.distributed_worker import seed
        from crawler.profile import find_profile
        from storage.db import make_engine

        overrides = {"base_url": base_url, "delay": delay}
        engine = make_engine(self.db_url)
        try:
            _, run_id = seed(self.redis_url, self.prefix, engine, find_profile(str(profile)).with_overrides(
                **overrides), overrides)
        finally:
            engine.dispose()
        return run_id

    def start_workers(self, n: int, lease_timeout: float = 3.0) -> list[subprocess.Popen]:
        for i in range(n):
            log = open(self.home / f"worker-{len(self.workers)}.log", "w")  # noqa: SIM115 - closed by the OS
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "narcowatch", "worker", "--burst", "--lease-timeout", str(lease_timeout),
                 "--poll", "0.5", "--worker-id", f"w{len(self.workers)}-{uuid.uuid4().hex[:4]}"],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
            del i
        return self.workers

    def worker_id(self, proc: subprocess.Popen) -> str:
        return proc.args[proc.args.index("--worker-id") + 1]

    def wait_workers(self, timeout: float = 300) -> list[int | None]:
        deadline = time.monotonic() + timeout
        codes = []
        for proc in self.workers:
            try:
                codes.append(proc.wait(timeout=max(1.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                codes.append(None)
        return codes

    def log(self, i: int) -> str:
        return (self.home / f"worker-{i}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def subset_profile(dest: Path, categories: list[str], name: str = "testbed_market_a") -> Path:
    """Market A's profile limited to some top-level categories (and the listings and vendors they lead to)."""
    data = yaml.safe_load((SITES / "testbed_market_a.yaml").read_text(encoding="utf-8"))
    data["start_urls"] = [f"/category/{c}" for c in categories]
    data["pages"]["index"]["links"]["index"] = ["nav.pagination a::attr(href)"]
    data["pages"]["index"]["links"].pop("vendor", None)
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@contextmanager
def pg_schema(pg_url: str) -> Iterator[str]:
    """A private schema in the PostgreSQL database; yields a URL whose search_path is that schema."""
    from sqlalchemy import create_engine, text

    schema = f"nw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def clear_prefix(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


def _migrate(db_url: str) -> None:
    """`narcowatch db upgrade`, in this process (a second Python start costs seconds on a busy machine)."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@contextmanager
def fleet(home: Path, pg_url: str, redis_url: str) -> Iterator[Fleet]:
    """A migrated private schema and a private Redis prefix, both removed afterwards."""
    prefix = f"nwtest-{uuid.uuid4().hex[:10]}"
    home.mkdir(parents=True, exist_ok=True)
    with pg_schema(pg_url) as db_url:
        f = Fleet(home, db_url, redis_url, prefix)
        try:
            _migrate(db_url)
            yield f
        finally:
            f.stop()
            clear_prefix(redis_url, prefix)
