"""Investigator search on 1M listings: p95 latency of `storage.search.search_listings` (the count, the ranked
page of 50 ids) plus loading the 50 result rows as the web page does, over a fixed mix of word and filter
queries, on SQLite and PostgreSQL. Target: p95 <= 100 ms on both.

Baseline: the same word queries as an unindexed `title LIKE '%word%'` scan with a LIMIT 50 page and a count,
i.e. what search would cost without the full-text index, measured on the same database in the same run.

The 1M-row SQLite database is built once (bulk inserts with the FTS triggers and secondary indexes off, then
one FTS rebuild and one sort per index: ~2 minutes) and cached under bench/_work/ (named by row count and
DATA_VERSION; migrations added since are applied to the cache when the bench opens it). PostgreSQL uses
NARCOWATCH_TEST_DATABASE_URL or the local test server, in a private schema dropped afterwards; the same
rows arrive by COPY (streamed from the SQLite cache by the `sqlite3` tool when it is installed, else
generated again) with the secondary indexes (GIN ones included) built after loading, then VACUUM ANALYZE.

Latency is wall time, so a loaded machine inflates it; each row's note also gives the CPU p95 (SQLite: this
process, where all of SQLite's work happens; PostgreSQL: this process plus its server backend, read from
/proc when the server is local, in 10 ms ticks) and the load average during the run.
Set NARCOWATCH_BENCH_SEARCH_ROWS to bench a smaller database (e.g. 100000 while developing), and
NARCOWATCH_BENCH_PG_SCHEMA=<name> to build the PostgreSQL copy once in that schema and keep it for the next
runs (drop it yourself afterwards).
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from storage.db import make_engine
from storage.migrate import upgrade
from storage.search import ListingFilters, search_listings

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
ROWS = int(os.environ.get("NARCOWATCH_BENCH_SEARCH_ROWS", "1000000"))
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DATA_VERSION = 2  # bump when _rows() changes: the cached database under bench/_work/ is then built again
SITES = [f"market_{c}" for c in "abcdefghij"]
COUNTRIES = ["NL", "DE", "GB", "US", "ES", "FR", "BE", "PL", "CZ", "CA", "AU", "EU", "WW"]
# (substance id, category, words that appear in titles); weights follow a long tail as on real markets
SUBSTANCES = [
    ("cannabis", "cannabis", ["weed", "cannabis", "kush", "haze", "og"]), ("cocaine", "stimulants", ["cocaine", "coke"]),
    ("mdma", "ecstasy", ["mdma", "pills", "molly"]), ("amphetamine", "stimulants", ["speed", "amphetamine", "paste"]),
    ("hashish", "cannabis", ["hash", "hashish", "pollen"]), ("lsd", "psychedelics", ["lsd", "blotter", "tabs"]),
    ("ketamine", "dissociatives", ["ketamine", "ket", "shards"]), ("heroin", "opioids", ["heroin", "brown"]),
    ("methamphetamine", "stimulants", ["meth", "crystal", "ice"]), ("alprazolam", "benzodiazepines", ["xanax", "bars"]),
    ("psilocybin", "psychedelics", ["shrooms", "mushrooms", "cubensis"]), ("oxycodone", "opioids", ["oxy", "m30"]),
    ("2c-b", "psychedelics", ["2cb", "nexus"]), ("testosterone", "doping", ["test", "enanthate"]),
    ("diazepam", "benzodiazepines", ["valium", "diazepam"]), ("fentanyl", "opioids", ["fentanyl", "fent"]),
    ("ghb", "dissociatives", ["ghb", "gbl"]), ("tramadol", "prescription", ["tramadol", "tramal"]),
    ("3-mmc", "nps", ["3mmc", "crystals"]), ("bmk", "precursors", ["bmk", "glycidate"]),
]
WEIGHTS = [1 / (i + 1) ** 0.9 for i in range(len(SUBSTANCES))]
FILLER = ["premium", "quality", "pure", "uncut", "fishscale", "lab", "tested", "stealth", "fast", "shipping",
          "tracked", "free", "bulk", "sample", "wholesale", "best", "new", "batch", "top", "grade", "organic",
          "vacuum", "sealed", "escrow", "reship", "guarantee", "discount", "offer", "limited", "fresh"]
DESCRIPTION = ["Ships within 24h.", "Vacuum sealed, odour proof.", "No refunds without photo.", "Finalize early for "
               "regulars.", "Lab tested, results on request.", "Reship once if lost.", "PGP only.",
               "Stock limited this week.", "Escrow accepted.", "Bulk prices on request."]

# The query mix: what investigators type and filter by. (name, words, filters)
QUERIES: list[tuple[str, str, ListingFilters]] = [
    ("word, common", "cocaine", ListingFilters()),
    ("word, rare", "glycidate", ListingFilters()),
    ("two words", "mdma pills", ListingFilters()),
    ("prefix", "keta", ListingFilters()),
    ("word + site", "kush", ListingFilters(sites=["market_c"])),
    ("word + category + origin", "crystal", ListingFilters(categories=["stimulants"], origins=["NL"])),
    ("word + price per g", "cocaine", ListingFilters(min_price_per_unit=40, max_price_per_unit=60)),
    ("word + dates", "heroin", ListingFilters(seen_from=T0 + timedelta(days=200), seen_to=T0 + timedelta(days=260))),
    ("filters only: category", "", ListingFilters(categories=["opioids"])),
    ("filters only: substance + origin", "", ListingFilters(substances=["fentanyl"], origins=["US"])),
    ("filters only: destination", "", ListingFilters(destination="DE", categories=["psychedelics"])),
    ("no words, no filters", "", ListingFilters()),
    ("word + active", "xanax", ListingFilters(active_only=True)),
    ("three words", "uncut fishscale cocaine", ListingFilters()),
]


def _rows(n: int, seed: int = 7):
    rng = random.Random(seed)
    for i in range(1, n + 1):
        sub, cat, words = rng.choices(SUBSTANCES, WEIGHTS)[0]
        qty = rng.choice([1, 2, 3.5, 5, 7, 10, 14, 28, 50, 100])
        unit = "unit" if sub in ("mdma", "lsd", "alprazolam", "oxycodone", "2c-b", "diazepam", "tramadol") else "g"
        title = " ".join([f"{qty:g}{'x' if unit == 'unit' else 'g'}", *rng.sample(FILLER, 2), rng.choice(words),
                          *rng.sample(FILLER, rng.randint(0, 2))])
        description = " ".join(rng.sample(DESCRIPTION, 3)) + f" {rng.choice(words)} from {rng.choice(COUNTRIES)}."
        ppu = round(rng.lognormvariate(3.3, 0.6), 2)
        first = T0 + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        last = first + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        origin = rng.choice(COUNTRIES[:11])
        yield {
            "id": i, "site_id": 1 + i % len(SITES), "external_id": f"E{i}", "url": f"http://m{i % 10}.test/l/{i}",
            "title": title, "description": description, "price": round(ppu * qty, 2), "currency": "EUR",
            "quantity": qty, "unit": unit, "price_per_unit": ppu, "ships_from": origin,
            "ships_to": rng.sample(["EU", "WW", "DE", "GB", "US", "NL", "FR"], rng.randint(1, 3)),
            "stock": rng.randint(0, 200), "category": cat, "substances": [sub], "needs_review": False,
            "vendor_account_id": None, "first_seen": first, "last_seen": last, "active": rng.random() < 0.7,
        }


def _seed_sites(conn) -> None:
    for i, slug in enumerate(SITES, start=1):
        conn.execute(text("INSERT INTO sites (id, slug, name, kind, base_url, is_onion, created_at) "
                          "VALUES (:id, :slug, :slug, 'market', :url, false, :at)"),
                     {"id": i, "slug": slug, "url": f"http://{slug}.test/", "at": T0})


COLUMNS = ["id", "site_id", "external_id", "url", "title", "description", "price", "currency", "quantity", "unit",
           "price_per_unit", "ships_from", "ships_to", "stock", "category", "substances", "needs_review",
           "vendor_account_id", "first_seen", "last_seen", "active"]


def _sqlite_values(n: int):
    """Rows as tuples in COLUMNS order, as storage keeps them on SQLite (JSON text, naive UTC text)."""
    for row in _rows(n):
        row["ships_to"] = json.dumps(row["ships_to"])
        subs = row["substances"]
        row["substances"] = json.dumps(subs)
        for key in ("first_seen", "last_seen"):
            row[key] = row[key].replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        yield tuple(row[c] for c in COLUMNS), subs[0]


def build_sqlite(path: Path, n: int) -> None:
    """Bulk load for the bench only: migrate an empty file, then drop the FTS triggers and the secondary
    indexes, insert in 100k-row executemany batches with synchronous=OFF and no journal, and afterwards
    rebuild the FTS index once and recreate the indexes and triggers (a sort each, instead of a random
    B-tree insert per row: about 2 minutes instead of 36 for 1M rows)."""
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{tmp}")
    upgrade(engine)
    with engine.begin() as conn:
        _seed_sites(conn)
    engine.dispose()
    raw = sqlite3.connect(tmp, isolation_level=None)
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA journal_mode=OFF")
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA cache_size=-1000000")  # 1 GB: the unique (site_id, external_id) index stays cached
        cur.execute("PRAGMA temp_store=MEMORY")
        saved = cur.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN "
                            "('listings', 'listing_substances') AND sql IS NOT NULL AND type IN "
                            "('trigger', 'index')").fetchall()
        for kind, name, _ in saved:
            cur.execute(f"DROP {kind.upper()} {name}")
        insert = f"INSERT INTO listings ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
        cur.execute("BEGIN")
        batch, subs = [], []
        for values, substance in _sqlite_values(n):
            batch.append(values)
            subs.append((values[0], substance))
            if len(batch) == 100_000:
                cur.executemany(insert, batch)
                cur.executemany("INSERT INTO listing_substances (listing_id, substance) VALUES (?, ?)", subs)
                batch, subs = [], []
        if batch:
            cur.executemany(insert, batch)
            cur.executemany("INSERT INTO listing_substances (listing_id, substance) VALUES (?, ?)", subs)
        cur.execute("INSERT INTO listings_fts(listings_fts) VALUES ('rebuild')")
        for _kind, _, sql in sorted(saved, key=lambda s: s[0] != "index"):  # indexes first, then triggers
            cur.execute(sql)
        cur.execute("COMMIT")
        cur.execute("INSERT INTO listings_fts(listings_fts) VALUES ('optimize')")
        cur.execute("ANALYZE")
        cur.execute("PRAGMA journal_mode=WAL")  # as the application runs it
    finally:
        raw.close()
    tmp.replace(path)


def _pg_copy_text(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    elif isinstance(value, datetime):
        value = value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copy_from_sqlite(cur, sqlite_path: Path) -> bool:
    """Stream the cached SQLite rows into PostgreSQL as CSV: the `sqlite3` command-line tool writes them
    (C speed) and PostgreSQL parses them, so the same 1M rows arrive in a minute instead of being generated
    again in Python. False when the tool is missing (then the rows are generated)."""
    tool = shutil.which("sqlite3")
    if tool is None or not sqlite_path.exists():
        return False
    cur.execute("SET TimeZone = 'UTC'")  # SQLite keeps naive UTC text
    for table, columns in (("listings", COLUMNS), ("listing_substances", ["listing_id", "substance"])):
        proc = subprocess.Popen([tool, "-csv", "-readonly", str(sqlite_path),
                                 f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"],
                                stdout=subprocess.PIPE)
        out = proc.stdout
        assert out is not None
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
            while chunk := out.read(1 << 20):
                copy.write(chunk)
        if proc.wait() != 0:
            raise RuntimeError(f"sqlite3 could not export {table} from {sqlite_path} (exit {proc.returncode})")
    return True


def build_postgres(url: str, n: int, sqlite_path: Path | None = None) -> None:
    """Migrate, drop the listing tables' secondary indexes (GIN included), COPY the rows in, then build the
    indexes once each; `vacuum` then marks the pages all-visible."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        _seed_sites(conn)
        saved = conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN "
            "('listings', 'listing_substances') AND indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE connamespace = current_schema()::regnamespace)")).all()
        for name, _ in saved:
            conn.execute(text(f'DROP INDEX "{name}"'))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if sqlite_path is None or not _copy_from_sqlite(cur, sqlite_path):
            _copy_generated(cur, n)
        cur.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in saved:
            cur.execute(definition)
        cur.execute("SELECT setval(pg_get_serial_sequence('listings', 'id'), %s)", (n,))
        raw.commit()
        cur.execute("ANALYZE sites")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def vacuum(url: str) -> float:
    """VACUUM ANALYZE the listing tables (a new build, or a kept schema whose indexes a migration rebuilt) and
    return the share of listing pages marked all-visible: index-only scans need it, as a live database's
    autovacuum would provide (it may be off on a test server). An older transaction open elsewhere on the
    server keeps VACUUM from marking rows it might still see; the share then shows it."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True  # VACUUM runs outside a transaction
        cur = raw.cursor()
        cur.execute("VACUUM ANALYZE listings")
        cur.execute("VACUUM ANALYZE listing_substances")
        cur.execute("SELECT relallvisible::float / greatest(relpages, 1) FROM pg_class "
                    "WHERE oid = 'listings'::regclass")
        return float(cur.fetchone()[0])
    finally:
        raw.close()
        engine.dispose()


def _copy_generated(cur, n: int) -> None:
    with cur.copy(f"COPY listings ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        buf = io.StringIO()
        for row in _rows(n):
            buf.write("\t".join(_pg_copy_text(row[c]) for c in COLUMNS) + "\n")
            if buf.tell() > 8_000_000:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())
    with cur.copy("COPY listing_substances (listing_id, substance) FROM STDIN") as copy:
        buf = io.StringIO()
        for row in _rows(n):
            buf.write(f"{row['id']}\t{row['substances'][0]}\n")
        copy.write(buf.getvalue())


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _proc_cpu_ms(pid: int | None) -> float | None:
    """CPU time (user + system, ms, 10 ms ticks) of a local process, e.g. this search's PostgreSQL backend."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def measure(engine, repeat: int = 5, cpu: list[float] | None = None) -> tuple[list[float], dict[str, float]]:
    """All latencies (ms) over the query mix, and each query's median. `cpu` collects the CPU time per search
    of this process, plus on PostgreSQL that of its server backend when the server runs on this machine (its
    parallel workers are not counted): the cost apart from a busy machine's waits."""
    from web.search_view import COUNT_LIMIT, listing_rows

    def search(session, words, filters):  # exactly what the web app's search page asks
        return search_listings(session, words, filters, limit=50, order="newest", count_limit=COUNT_LIMIT)

    samples: list[float] = []
    per_query: dict[str, float] = {}
    with Session(engine) as session:
        backend = None
        if engine.dialect.name == "postgresql":
            backend = session.scalar(text("SELECT pg_backend_pid()"))
            if _proc_cpu_ms(backend) is None:
                backend = None
        for _name, words, filters in QUERIES:  # warm the caches once, as a running server has them
            search(session, words, filters)
        for name, words, filters in QUERIES:
            mine = []
            for _ in range(repeat):
                started, cpu_started, server_started = time.perf_counter(), time.process_time(), _proc_cpu_ms(backend)
                page = search(session, words, filters)
                listing_rows(session, page.ids)
                mine.append((time.perf_counter() - started) * 1000)
                if cpu is not None:
                    server = _proc_cpu_ms(backend)
                    cpu.append((time.process_time() - cpu_started) * 1000 + (server - server_started if server else 0))
            samples += mine
            per_query[name] = statistics.median(mine)
    return samples, per_query


def measure_like(engine, repeat: int = 3) -> list[float]:
    samples = []
    with engine.connect() as conn:
        for _name, words, _filters in QUERIES:
            if not words:
                continue
            pattern = f"%{words.split()[0]}%"
            for _ in range(repeat):
                started = time.perf_counter()
                conn.execute(text("SELECT count(*) FROM listings WHERE title LIKE :p"), {"p": pattern}).scalar()
                conn.execute(text("SELECT id FROM listings WHERE title LIKE :p ORDER BY last_seen DESC LIMIT 50"),
                             {"p": pattern}).all()
                samples.append((time.perf_counter() - started) * 1000)
    return samples


def _load() -> str:
    try:
        return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return "load unknown"


def _row(backend: str, samples: list[float], like: list[float], per_query: dict[str, float], build_s: float,
         cpu: list[float] | None = None, cpu_name: str = "in-process CPU p95") -> dict:
    p95, base = _p95(samples), _p95(like)
    slowest = max(per_query, key=per_query.get)
    cpu_note = f"; {cpu_name} {_p95(cpu):.1f} ms" if cpu else ""
    return {"name": f"search {ROWS:,} listings, {backend}", "metric": "p95 ms", "value": round(p95, 1),
            "baseline_name": "LIKE '%word%' scan (count + page)", "baseline": round(base, 1),
            "ratio": round(p95 / base, 4) if base else None, "target": "<= 100 ms",
            "note": f"{len(samples)} searches over {len(QUERIES)} query kinds; median {statistics.median(samples):.1f} "
                    f"ms; slowest kind '{slowest}' {per_query[slowest]:.1f} ms{cpu_note}; build {build_s:.0f} s; {_load()}"}


def run() -> list[dict]:
    rows = []
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"search_{ROWS}_v{DATA_VERSION}.db"
    started = time.perf_counter()
    if not path.exists():
        build_sqlite(path, ROWS)
    build_s = time.perf_counter() - started
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)  # a cache built before a new (index) migration gets it here
        cpu: list[float] = []
        samples, per_query = measure(engine, cpu=cpu)
        rows.append(_row("SQLite", samples, measure_like(engine), per_query, build_s, cpu))
    finally:
        engine.dispose()

    pg = os.environ.get("NARCOWATCH_TEST_DATABASE_URL") or PG_DEFAULT
    keep = os.environ.get("NARCOWATCH_BENCH_PG_SCHEMA", "")  # reuse (and keep) this schema between runs
    if keep and not keep.replace("_", "").isalnum():
        raise ValueError(f"NARCOWATCH_BENCH_PG_SCHEMA={keep!r}: use letters, digits and _ only")
    schema = keep or f"nw_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            loaded = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                                  {"t": f'"{schema}".listings'}).scalar()
    except Exception as exc:  # no server on this machine: say so in the table rather than fail the bench
        rows.append({"name": f"search {ROWS:,} listings, PostgreSQL", "metric": "p95 ms", "value": None,
                     "target": "<= 100 ms", "note": f"skipped: PostgreSQL unreachable ({type(exc).__name__})"})
        return rows
    sep = "&" if "?" in pg else "?"
    url = f"{pg}{sep}options=-csearch_path%3D{schema}"
    try:
        started = time.perf_counter()
        engine = make_engine(url)
        try:
            if keep and loaded and abs(loaded - ROWS) < ROWS * 0.01:
                upgrade(engine)  # kept from an earlier run: only new migrations
            else:
                build_postgres(url, ROWS, path)
            visible = vacuum(url)
            build_s = time.perf_counter() - started
            cpu = []
            samples, per_query = measure(engine, cpu=cpu)
            row = _row("PostgreSQL", samples, measure_like(engine), per_query, build_s, cpu,
                       "client + server backend CPU p95")
            row["note"] += f"; {visible:.0%} of listing pages all-visible after VACUUM"
            rows.append(row)
        finally:
            engine.dispose()
    finally:
        if not keep:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return rows

if __name__ == "__main__":
    for r in run():
        print(r)
