"""`narcowatch evidence verify`: re-hash everything and name what was altered or is missing."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.evidence import EvidenceStore, WarcLocation, file_sha256, sha256_hex
from storage.models import Page, WarcFile

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Problem:
    path: str
    kind: str  # missing | altered | unreadable | unexpected
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.upper()}: {self.path}: {self.detail}"


@dataclass
class VerifyReport:
    bodies_checked: int = 0
    records_checked: int = 0
    warc_files_checked: int = 0
    problems: list[Problem] | None = None
    leftover_temp: int = 0  # ".tmp-*" files of a write that was killed before its rename: never evidence

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_body(store: EvidenceStore, sha: str, what: str) -> Problem | None:
    path = store.body_path(sha)
    rel = str(path.relative_to(store.root))
    if not path.exists():
        return Problem(rel, "missing", f"{what} body {sha} is gone")
    try:
        actual = sha256_hex(store.read_body(sha))
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        return Problem(rel, "altered", f"{what} body cannot be decompressed ({exc})")
    if actual != sha:
        return Problem(rel, "altered", f"{what} body hashes to {actual}, expected {sha}")
    return None


def verify(session: Session, store: EvidenceStore) -> VerifyReport:
    report = VerifyReport(problems=[])
    problems = report.problems
    seen_bodies: set[str] = set()
    for page in session.scalars(select(Page).order_by(Page.id)).yield_per(500):
        for sha, what in ((page.sha256, f"page {page.id} ({page.url})"),
                          (page.screenshot_sha256, f"screenshot of page {page.id}")):
            if sha and sha not in seen_bodies:
                seen_bodies.add(sha)
                report.bodies_checked += 1
                if problem := _check_body(store, sha, what):
                    problems.append(problem)
        report.records_checked += 1
        location = WarcLocation(page.warc_path, page.warc_offset, page.warc_length)
        if not (store.root / page.warc_path).exists():
            problems.append(Problem(page.warc_path, "missing", f"WARC file of page {page.id} is gone"))
            continue
        try:
            _headers, payload = store.record_payload(location)
        except Exception as exc:  # torn gzip member, CRC error, truncated file: all mean altered
            problems.append(Problem(page.warc_path, "altered",
                                    f"record at offset {page.warc_offset} of page {page.id} unreadable ({exc})"))
            continue
        if sha256_hex(payload) != page.sha256:
            problems.append(Problem(page.warc_path, "altered",
                                    f"record at offset {page.warc_offset} of page {page.id} does not hash "
                                    f"to {page.sha256}"))
    for warc in session.scalars(select(WarcFile).order_by(WarcFile.id)):
        path = store.root / warc.path
        if not path.exists():
            problems.append(Problem(warc.path, "missing", "WARC file is gone"))
            continue
        if warc.sha256 is None:
            continue  # unsealed (run still going or killed): its records were checked one by one above
        report.warc_files_checked += 1
        if path.stat().st_size != warc.size or file_sha256(path) != warc.sha256:
            problems.append(Problem(warc.path, "altered", f"sealed WARC file no longer hashes to {warc.sha256}"))
    # bodies on disk that no page names are still evidence: they must hash to their own name
    bodies_root = store.root / "bodies"
    if bodies_root.exists():
        for path in sorted(bodies_root.glob("*/*/*.gz")):
            sha = path.name[:-3]
            if sha in seen_bodies:
                continue
            if path.name.startswith(".tmp-"):
                report.leftover_temp += 1  # no row ever pointed at it: the body is written again if needed
                continue
            if not _HEX64.fullmatch(sha):
                problems.append(Problem(relative(path, store.root), "unexpected",
                                        "a file in the body store that is not named by its SHA-256"))
                continue
            report.bodies_checked += 1
            if problem := _check_body(store, sha, "unreferenced"):
                problems.append(problem)
    return report


def relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root))
