"""Hostile input everywhere: property-based tests (hypothesis) for site profiles, extractor input, clustering
input, import files and the web JSON API; a full disk, a locked and an unreachable database, a corrupt WARC.

The rule each test checks: the input is refused with a clear error that says what and where (or accepted),
nothing crashes with a traceback, and nothing is stored half-way: no partial output file, no row without
its audit entry, no row pointing at a missing file.

The number of generated inputs per test is HOSTILE_EXAMPLES (default below); `make test-long` runs the
`slow` twins with ten times as many.
"""

from __future__ import annotations

import json
import os
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "150"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=EXAMPLES * 10, deadline=None, suppress_health_check=list(HealthCheck))

# JSON-like values, including the awkward ones (huge ints, NaN-free floats, control characters, deep nesting)
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=40) | st.sampled_from(["", "\x00", "<script>alert(1)</script>", "../../etc/passwd",
                                                   "http://127.0.0.1:5432/", "💊" * 30, "a" * 5000, "1e309"]))
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=12), kids, max_size=4), max_leaves=12)


# ------------------------------------------------------------------------------------------ site profiles

VALID_PROFILE = yaml.safe_load((ROOT / "sites" / "testbed_market_a.yaml").read_text(encoding="utf-8"))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(VALID_PROFILE) if p]


def _mutate(data, path, value):
    import copy

    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


def _profile_outcome(text: str) -> str:
    from crawler.profile import Profile, ProfileError, parse_profile

    try:
        profile = parse_profile(text, "sites/fuzz_site.yaml")
    except ProfileError as exc:
        assert exc.problems, "a ProfileError with no problem listed"
        for problem in exc.problems:
            # names the file and a line: "sites/fuzz_site.yaml:12: field: what"
            assert problem.startswith("sites/fuzz_site.yaml:"), problem
            assert problem.split(":")[1].isdigit(), problem
        return "refused"
    assert isinstance(profile, Profile)
    # an accepted profile is usable: its policy answers without crashing, onion sites keep a proxy
    from crawler.egress import Policy

    Policy(profile).refusal(profile.base_url)
    assert not (profile.is_onion and profile.proxy == "none")
    return "accepted"


def _check_profile_mutation(path_index: int, value, delete: bool) -> str:
    path = ALL_PATHS[path_index % len(ALL_PATHS)]
    data = _mutate(VALID_PROFILE, path, _DELETE if delete and not isinstance(path[-1], int) else value)
    return _profile_outcome(yaml.safe_dump(data, allow_unicode=True))


@FAST
@given(st.integers(0, 10_000), json_values, st.booleans())
def test_profile_mutations_are_refused_clearly_or_accepted(path_index, value, delete):
    _check_profile_mutation(path_index, value, delete)


@FAST
@given(st.text(alphabet=string.printable + "äé💊\x00\t", max_size=400))
def test_profile_arbitrary_text_never_crashes(text):
    _profile_outcome(text)


@pytest.mark.slow
@LONG
@given(st.integers(0, 10_000), json_values, st.booleans())
def test_profile_mutations_long(path_index, value, delete):
    _check_profile_mutation(path_index, value, delete)


def test_profile_errors_name_file_line_and_field():
    from crawler.profile import ProfileError, parse_profile

    text = yaml.safe_dump(_mutate(VALID_PROFILE, ("politeness", "delay"), -5), sort_keys=False)
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "sites/x.yaml")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "delay:" in row)
    assert f"sites/x.yaml:{line}: politeness.delay:" in str(err.value)


# ------------------------------------------------------------------------------------------ extractors

records = st.fixed_dictionaries({}, optional={
    "id": json_values, "title": st.text(max_size=300) | json_values, "description": st.text(max_size=600),
    "text": st.text(alphabet=st.characters(codec="utf-8"), max_size=600)})


@FAST
@given(st.lists(records, min_size=1, max_size=4))
def test_extractor_api_takes_any_text(batch):
    from extractors.api import analyze_records

    # every record, non-string fields included: the library reads a number or a list as its text (the
    # `analyze` command is stricter and refuses them with the file, line and field, tested below)
    results = list(analyze_records(batch))
    assert len(results) == len(batch)
    for record, result in zip(batch, results, strict=True):
        assert result["id"] == record.get("id")
        for item in result["substances"] + result["quantities"] + result["prices"]:
            if item.get("field"):  # offsets point back into the field they came from
                assert str(record[item["field"]])[item["start"]:item["end"]] == item["text"]


def _analyze(tmp_path: Path, lines: list[str], existing: str | None) -> tuple[object, Path]:
    from narcowatch.cli import cli

    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if existing is None:
        out.unlink(missing_ok=True)
    else:
        out.write_text(existing, encoding="utf-8")
    return CliRunner().invoke(cli, ["analyze", "--input", str(src), "--output", str(out)]), out


GOOD_LINE = json.dumps({"id": 1, "title": "3.5g cocaine 90% from NL", "description": "ships EU"})


@settings(max_examples=max(20, EXAMPLES // 5), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.just(GOOD_LINE), json_values.map(json.dumps), st.text(max_size=60)), min_size=1,
                max_size=6))
def test_analyze_import_file_refused_whole_or_processed_whole(tmp_path_factory, lines):
    tmp = tmp_path_factory.mktemp("analyze")
    previous = '{"id": "from an earlier run"}\n'
    result, out = _analyze(tmp, [line.replace("\n", " ") for line in lines], previous)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        f"crash: {result.exception!r}\n{result.output}"
    if result.exit_code == 0:
        assert out.exists()
    else:
        assert "line " in result.output and "Error" in result.output, result.output
        assert "Traceback" not in result.output
        # refused: the earlier output is untouched, no half-written file
        assert out.read_text(encoding="utf-8") == previous


# ------------------------------------------------------------------------------------------ clustering


def _cluster(tmp: Path, lines: list[str]):
    from narcowatch.cli import cli

    src, out = tmp / "accounts.jsonl", tmp / "clusters.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.write_text("earlier\n", encoding="utf-8")
    return CliRunner().invoke(cli, ["cluster", "--input", str(src), "--output", str(out)]), out


account = st.fixed_dictionaries({"account_id": st.text(min_size=1, max_size=8), "site": st.sampled_from(["a", "b"]),
                                 "handle": st.text(min_size=1, max_size=12)},
                                optional={"pgp_fingerprints": json_values, "wallets": json_values,
                                          "contacts": json_values, "ships_from": json_values, "titles": json_values,
                                          "profile": json_values, "products": json_values})


@settings(max_examples=max(30, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(account.map(json.dumps), json_values.map(json.dumps)), min_size=1, max_size=6))
def test_cluster_input_refused_clearly_or_clustered(tmp_path_factory, lines):
    result, out = _cluster(tmp_path_factory.mktemp("cluster"), lines)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        f"crash on {lines!r}: {result.exception!r}"
    if result.exit_code != 0:
        assert "Error" in result.output and "Traceback" not in result.output
        assert out.read_text(encoding="utf-8") == "earlier\n"


def test_cluster_record_reader_on_raw_dicts():
    """classifiers.vendors.Account.from_dict: anything but a valid record raises RecordError, nothing else."""
    from hypothesis import given as given_

    from classifiers.vendors import Account, RecordError

    @settings(max_examples=EXAMPLES * 2, deadline=None)
    @given_(json_values | account)
    def check(data):
        try:
            Account.from_dict(data)
        except RecordError as exc:
            assert str(exc)

    check()


# ------------------------------------------------------------------------------------------ web JSON API


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from storage.db import make_engine
    from storage.evidence import EvidenceStore
    from storage.migrate import upgrade
    from tests import web_fixtures as wf
    from web.accounts import create_token
    from web.app import create_app

    root = tmp_path_factory.mktemp("api")
    engine = make_engine(f"sqlite:///{root / 'nw.db'}")
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        world = wf.build(session, EvidenceStore(root / "evidence"), root / "reports")
        _, token = create_token(session, "ivan", "fuzz")
        session.commit()
    app = create_app(engine, root / "evidence", root, root / "reports")
    client = TestClient(app, raise_server_exceptions=False, headers={"authorization": f"Bearer {token}"})
    yield client, engine, world
    engine.dispose()


def _counts(engine) -> tuple[int, int]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from storage.models import AuditLog, ClusterFeedback

    with Session(engine) as s:
        return (s.scalar(select(func.count()).select_from(ClusterFeedback)),
                s.scalar(select(func.count()).select_from(AuditLog)))


@FAST
@given(body=json_values, link=st.sampled_from(["pgp", "forum", None]), raw=st.booleans())
def test_feedback_api_payloads(api, body, link, raw):
    client, engine, world = api
    link_id = world.links[link] if link else 987654
    fb_before, audit_before = _counts(engine)
    if raw:
        response = client.post(f"/api/links/{link_id}/decision", content=json.dumps(body).encode()[:4000],
                               headers={"content-type": "application/json"})
    else:
        response = client.post(f"/api/links/{link_id}/decision", json=body)
    assert response.status_code < 500, response.text
    fb_after, audit_after = _counts(engine)
    if response.status_code == 200:
        assert (fb_after, audit_after) == (fb_before + 1, audit_before + 1)
    else:
        assert response.status_code in (404, 422), response.text
        assert fb_after == fb_before, "a refused decision was stored"
        answer = response.json()
        assert answer.get("error") or answer.get("detail"), "the error says what was wrong"


SEARCH_VALUES = (st.text(max_size=30) | st.integers().map(str) | st.dates().map(str)
                 | st.decimals(allow_nan=True, allow_infinity=True).map(str)
                 | st.sampled_from(["listings", "posts", "NL", "EU", "WW", "cocaine", "stimulants", "true", "0",
                                    "relevance", "newest", "2026-13-40", "-1", "1e999", "NaN", "", "market_a"]))


@FAST
@given(data=st.data())
def test_search_api_params(api, data):
    """Every parameter the search API documents (read from its OpenAPI description, so a new filter is fuzzed
    as soon as it exists), repeated or not, plus unknown ones: a result or a 422 that names what was wrong."""
    client, engine, _ = api
    names = [p["name"] for p in client.app.openapi()["paths"]["/api/search"]["get"]["parameters"]]
    assert {"q", "kind", "site", "category", "substance", "origin", "destination", "from", "to", "min_ppu",
            "max_ppu", "active", "sort", "page"} <= set(names)
    params = data.draw(st.lists(st.tuples(st.sampled_from(names + ["bogus"]), SEARCH_VALUES), max_size=8))
    response = client.get("/api/search", params=params)
    assert response.status_code < 500, (params, response.text[:500])
    if response.status_code != 200:
        answer = response.json()
        assert response.status_code == 422 and (answer.get("error") or answer.get("detail")), answer
    else:
        assert isinstance(response.json().get("results"), list), response.text[:300]


# ------------------------------------------------------------------------------------------ full disk


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MiB tmpfs: a real full disk (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    ok = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                                              capture_output=True).returncode == 0
    if not ok:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_full_disk_during_evidence_capture_leaves_no_dangling_row(tiny_disk, tmp_path):
    """Bodies and WARC records go to a full disk: the capture fails with ENOSPC, the transaction rolls back,
    everything committed before stays and verifies."""
    import errno

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from storage.db import make_engine
    from storage.evidence import EvidenceStore
    from storage.evidence_check import verify
    from storage.evidence_run import RunEvidence
    from storage.migrate import upgrade
    from storage.models import Page, Site
    from tests.storage_helpers import at, new_run

    engine = make_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    upgrade(engine)
    store = EvidenceStore(tiny_disk / "evidence")
    committed = 0
    failure = None
    with Session(engine, expire_on_commit=False) as session:
        run = new_run(session, when=at(1))
        session.commit()
        rec = RunEvidence(store, session, run, session.get(Site, run.site_id))
        for i in range(4000):
            body = os.urandom(24 * 1024)  # incompressible: fills the disk
            try:
                rec.capture(session, f"http://market.test/listing/{i}", 200, [], body, at(1), "text/html")
                rec.sync()
                session.commit()
                committed += 1
            except OSError as exc:
                failure = exc
                session.rollback()
                break
        assert failure is not None and failure.errno == errno.ENOSPC, failure
        assert committed > 3
        assert session.scalar(select(func.count()).select_from(Page)) == committed
        report = verify(session, store)
        # every committed page verifies; the torn tail of the open WARC file is not referenced by any row
        assert report.ok, [str(p) for p in report.problems]
    engine.dispose()


def test_full_disk_under_the_database_gives_a_clear_error_and_keeps_data(tiny_disk, tmp_path):
    import shutil

    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from storage.db import make_engine
    from storage.migrate import upgrade
    from storage.models import Post
    from storage.records import PostRecord, ThreadRecord
    from storage.upsert import get_or_create_site, upsert_post, upsert_thread
    from tests.storage_helpers import at

    migrated = make_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    upgrade(migrated)
    migrated.dispose()
    shutil.copy(tmp_path / "nw.db", tiny_disk / "nw.db")
    engine = make_engine(f"sqlite:///{tiny_disk / 'nw.db'}")
    kept = 0
    with Session(engine) as session:
        site = get_or_create_site(session, "forum", "Forum", "forum", "http://forum.test/", False)
        thread = upsert_thread(session, site.id, ThreadRecord("t", "t", "http://forum.test/t"), at(1))
        session.commit()
        with pytest.raises(OperationalError, match="full"):
            for i in range(10_000):
                upsert_post(session, site.id, thread.id, PostRecord(f"p{i}", "t", "u", os.urandom(2000).hex(),
                                                                    at(1)), at(1))
                session.commit()
                kept += 1
        session.rollback()
        assert kept > 0
        assert session.scalar(select(func.count()).select_from(Post)) == kept
    engine.dispose()


# ------------------------------------------------------------------------------------------ locked / unreachable DB


def test_locked_database_write_waits_then_lands_or_fails_cleanly(tmp_path):
    import sqlite3
    import threading
    import time

    from sqlalchemy import func, select, text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from storage.db import make_engine
    from storage.migrate import upgrade
    from storage.models import CaseHold

    db = tmp_path / "nw.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    holder = sqlite3.connect(db, timeout=5, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    holder.execute("INSERT INTO case_holds (case_ref, kind, target_id, created_by, created_at) "
                   "VALUES ('OTHER', 'site', 1, 'x', '2026-01-01 00:00:00')")
    # 1) a short lock: the write waits (busy_timeout) and lands after the holder commits
    threading.Timer(1.0, holder.commit).start()
    started = time.monotonic()
    with Session(engine) as s:
        s.add(CaseHold(case_ref="OP-1", kind="site", target_id=1, created_by="inv"))
        s.commit()
    assert time.monotonic() - started >= 0.9
    # 2) a lock held past the timeout: a clear "database is locked" error, and nothing half-stored
    holder.execute("BEGIN IMMEDIATE")
    with engine.connect() as conn:
        conn.execute(text("PRAGMA busy_timeout=300"))
        with Session(bind=conn) as s, pytest.raises(OperationalError, match="locked"):
            s.add(CaseHold(case_ref="OP-2", kind="site", target_id=1, created_by="inv"))
            s.commit()
    holder.rollback()
    holder.close()
    with Session(engine) as s:
        assert sorted(s.scalars(select(CaseHold.case_ref))) == ["OP-1", "OTHER"]
        assert s.scalar(select(func.count()).select_from(CaseHold)) == 2
    engine.dispose()


@pytest.mark.parametrize("url", ["postgresql+psycopg://nw:Sup3rS3cretPw@127.0.0.1:1/nw",
                                 "sqlite:////proc/no/such/dir/nw.db"])
def test_unreachable_database_clear_error_no_traceback_no_password(tmp_path, url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NARCOWATCH_")}
    env.update(NARCOWATCH_HOME=str(tmp_path), NARCOWATCH_DATABASE_URL=url)
    for args in (["db", "status"], ["evidence", "verify"]):
        proc = subprocess.run([sys.executable, "-m", "narcowatch", *args], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, (args, out)
        assert "Traceback" not in out, (args, out[-3000:])
        assert "cannot open" in out or "cannot create" in out, (args, out)
        assert out.startswith("Error:") or "\nError:" in out, (args, out)
        assert "Sup3rS3cretPw" not in out, (args, out)


# ------------------------------------------------------------------------------------------ corrupt WARC


def test_corrupt_warc_is_reported_never_raised(session, evidence):
    from storage.evidence_check import verify
    from storage.evidence_run import RunEvidence
    from storage.models import Site
    from tests.storage_helpers import at, new_run

    run = new_run(session, when=at(1))
    rec = RunEvidence(evidence, session, run, session.get(Site, run.site_id))
    pages = [rec.capture(session, f"http://m.test/l/{i}", 200, [("Content-Type", "text/html")],
                         f"<p>listing {i}</p>".encode() * 50, at(1), "text/html") for i in range(6)]
    # a page whose URL is not http(s) (found by the crash tests: warcio left its header block in the payload)
    pages.append(rec.capture(session, "javascript:alert(1)", 200, [], b"<p>odd url</p>", at(1), "text/html"))
    rec.sync()
    session.commit()
    assert verify(session, evidence).ok
    warc = evidence.root / pages[0].warc_path
    data = bytearray(warc.read_bytes())
    # flip a byte inside page 2's gzip member, then cut the file inside the last record
    data[pages[2].warc_offset + pages[2].warc_length // 2] ^= 0xFF
    warc.write_bytes(bytes(data[:pages[5].warc_offset + 10]))
    report = verify(session, evidence)
    named = {str(p) for p in report.problems}
    assert not report.ok
    assert any(f"page {pages[2].id}" in p for p in named), named
    assert any(f"page {pages[5].id}" in p for p in named), named
    assert not any(f"page {pages[1].id} " in p or p.endswith(f"page {pages[1].id}") for p in named), named
    # garbage instead of a WARC file: still a report, never an exception
    warc.write_bytes(b"\x00not a warc" * 100)
    assert not verify(session, evidence).ok
