"""The evidence store: capture, verify (tampering and loss are named), export bundles."""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile

import pytest
from click.testing import CliRunner

from narcowatch.cli import cli
from storage.evidence_bundle import ExportError, export_listing
from storage.evidence_check import verify
from storage.evidence_run import RunEvidence
from storage.models import Site
from storage.upsert import upsert_listing
from tests.storage_helpers import at, listing, new_run

HTML = b"<html><body><h1>3.5g Colombian cocaine</h1><span class=price>30.00 EUR</span></body></html>"


def capture_listing(session, evidence, body=HTML, screenshot=None):
    run = new_run(session, when=at(1))
    site = session.get(Site, run.site_id)
    rec = RunEvidence(evidence, session, run, site)
    page = rec.capture(session, "http://market_a.test/listing/L1", 200, [("Content-Type", "text/html")], body,
                       at(1), "text/html", screenshot=screenshot)
    write = upsert_listing(session, run.site_id, listing(), at(1), run.id, page.id)
    rec.sync()
    rec.close(session)
    session.commit()
    return page, write.listing_id


def test_capture_then_verify_is_clean(session, evidence):
    page, _ = capture_listing(session, evidence)
    assert evidence.read_body(page.sha256) == HTML
    assert page.sha256 == hashlib.sha256(HTML).hexdigest()
    report = verify(session, evidence)
    assert report.ok, report.problems
    assert report.bodies_checked == 1 and report.records_checked == 1 and report.warc_files_checked == 1


def test_same_body_is_stored_once(evidence):
    assert evidence.put_body(b"x") == evidence.put_body(b"x")
    assert len(list((evidence.root / "bodies").glob("*/*/*.gz"))) == 1


def test_warc_record_keeps_url_time_status_headers(session, evidence):
    page, _ = capture_listing(session, evidence)
    from storage.evidence import WarcLocation

    headers, payload = evidence.record_payload(WarcLocation(page.warc_path, page.warc_offset, page.warc_length))
    assert payload == HTML
    assert headers["WARC-Target-URI"] == "http://market_a.test/listing/L1"
    assert headers["WARC-Date"].startswith("2026-09-28T12:00:00")
    assert headers["WARC-Payload-Digest"] == f"sha256:{page.sha256}"


def _flip_byte_in_gzip_content(path):
    """Alter one byte of the stored body while keeping a valid gzip file, as a careful forger would."""
    data = gzip.decompress(path.read_bytes())
    altered = data.replace(b"30.00", b"20.00")
    assert altered != data
    path.write_bytes(gzip.compress(altered, mtime=0))


def test_tampered_body_is_named(session, evidence):
    page, _ = capture_listing(session, evidence)
    path = evidence.body_path(page.sha256)
    _flip_byte_in_gzip_content(path)
    problems = verify(session, evidence).problems
    assert [p.kind for p in problems] == ["altered"]
    assert problems[0].path == str(path.relative_to(evidence.root))


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_one_flipped_warc_byte_is_named(session, evidence, where):
    page, _ = capture_listing(session, evidence)
    path = evidence.root / page.warc_path
    raw = bytearray(path.read_bytes())
    index = {"start": 10, "middle": len(raw) // 2, "end": len(raw) - 3}[where]
    raw[index] ^= 0x01
    path.write_bytes(bytes(raw))
    problems = verify(session, evidence).problems
    assert problems and all(p.path == page.warc_path for p in problems)
    assert {p.kind for p in problems} == {"altered"}


def test_missing_files_are_named(session, evidence):
    page, _ = capture_listing(session, evidence)
    evidence.body_path(page.sha256).unlink()
    (evidence.root / page.warc_path).unlink()
    kinds = {(p.kind, p.path) for p in verify(session, evidence).problems}
    assert ("missing", str(evidence.body_path(page.sha256).relative_to(evidence.root))) in kinds
    assert ("missing", page.warc_path) in kinds


def test_unreferenced_body_must_still_match_its_name(session, evidence):
    capture_listing(session, evidence)
    sha = evidence.put_body(b"orphan")
    _flip = evidence.body_path(sha)
    _flip.write_bytes(gzip.compress(b"orphan!", mtime=0))
    assert [p.kind for p in verify(session, evidence).problems] == ["altered"]


def test_temp_file_of_a_killed_write_is_ignored_but_strangers_are_named(session, evidence):
    """A crawl SIGKILLed between writing a body's temporary file and renaming it leaves `.tmp-*.gz`: that is
    not evidence (no row points at it) and must not make verify fail, let alone crash; any other file in the
    body store that is not named by its hash is reported."""
    capture_listing(session, evidence)
    folder = evidence.body_path(evidence.put_body(b"x")).parent
    (folder / ".tmp-abc123.gz").write_bytes(b"half a gzip")
    report = verify(session, evidence)
    assert report.ok and report.leftover_temp == 1
    (folder / "notes.gz").write_bytes(gzip.compress(b"hello"))
    assert [(p.kind, p.path.endswith("notes.gz")) for p in verify(session, evidence).problems] == [("unexpected", True)]


def test_export_bundle_is_self_consistent(session, evidence, tmp_path):
    page, listing_id = capture_listing(session, evidence, screenshot=b"\x89PNG fake screenshot")
    out = tmp_path / "bundle.zip"
    manifest = export_listing(session, evidence, listing_id, out, exported_by="tester")
    with zipfile.ZipFile(out) as bundle:
        names = set(bundle.namelist())
        assert {"manifest.json", "SHA256SUMS", "listing.json", "evidence.warc.gz"} <= names
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(bundle.read(name)).hexdigest() == digest, name
        stored = json.loads(bundle.read("manifest.json"))
        assert stored["pages"][0]["body_sha256"] == page.sha256
        assert bundle.read(stored["pages"][0]["body_file"]) == HTML
        assert stored["pages"][0]["screenshot_sha256"]
        data = json.loads(bundle.read("listing.json"))
        assert data["listing"]["title"] == "3.5g Colombian cocaine 90% pure"
        assert len(data["snapshots"]) == 1
        warc = bundle.read("evidence.warc.gz")
        src = stored["pages"][0]["warc_source"]
        assert hashlib.sha256(warc[: src["length"]]).hexdigest() == src["record_sha256"]


def test_export_unknown_listing_is_a_clear_error(session, evidence, tmp_path):
    with pytest.raises(ExportError, match="no listing with id 999"):
        export_listing(session, evidence, 999, tmp_path / "x.zip")


def test_cli_verify_fails_naming_the_tampered_file(nw_home):
    from storage.db import default_engine, session_scope
    from storage.evidence import EvidenceStore

    runner = CliRunner()
    result = runner.invoke(cli, ["evidence", "verify"])
    assert result.exit_code != 0 and "narcowatch db upgrade" in result.output
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    store = EvidenceStore(nw_home / "evidence")
    with session_scope(default_engine()) as session:
        page, listing_id = capture_listing(session, store)
    ok = runner.invoke(cli, ["evidence", "verify"])
    assert ok.exit_code == 0 and "evidence intact" in ok.output
    export = runner.invoke(cli, ["evidence", "export", "--listing", str(listing_id), "--out",
                                 str(nw_home / "b.zip")])
    assert export.exit_code == 0, export.output
    _flip_byte_in_gzip_content(store.body_path(page.sha256))
    bad = runner.invoke(cli, ["evidence", "verify"])
    assert bad.exit_code == 1
    assert page.sha256 in bad.output and "ALTERED" in bad.output


def test_put_bodies_stores_each_once_like_put_body(evidence, tmp_path):
    from storage.evidence import EvidenceStore

    bodies = [b"<p>one</p>", b"<p>two</p>", b"<p>one</p>", b"x" * 70_000]
    evidence.put_body(b"<p>two</p>")  # already stored: left as it is
    digests = evidence.put_bodies(bodies)
    assert digests == [hashlib.sha256(b).hexdigest() for b in bodies]
    one_by_one = EvidenceStore(tmp_path / "one_by_one")
    for digest, body in zip(digests, bodies, strict=True):
        assert evidence.read_body(digest) == body
        one_by_one.put_body(body)  # the very same file bytes as put_body writes
        assert evidence.body_path(digest).read_bytes() == one_by_one.body_path(digest).read_bytes()
    assert len(list((evidence.root / "bodies").glob("*/*/*.gz"))) == 3
    assert not list((evidence.root / "bodies").glob("*/*/.tmp-*"))  # no temporary file left behind
    assert evidence.put_bodies([]) == []
