"""The evidence store: every fetched body content-addressed by SHA-256 (gzip), and every HTTP response as a
WARC record per crawl run.

Layout under the evidence root:
    bodies/ab/cd/<sha256>.gz          decompressed content hashes to <sha256>
    warc/<site>/run-<id>-<seq>.warc.gz  one gzip member per record; a resumed run starts a new <seq>

Writes are crash-safe: a body goes to a temporary file, is fsynced and renamed into place, so a body either
exists whole or not at all. WARC records are appended; `WarcRecorder.sync()` fsyncs before the database
commits rows that point at them, so a committed row never points at bytes that were not on disk. A run
killed mid-record leaves a torn tail past the last committed offset, which nothing references.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

CHUNK = 1 << 20


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_IO_POOL: list = []
_IO_POOL_LOCK = threading.Lock()


def _io_pool():
    """Threads for `put_bodies` (fsyncs wait on the disk, not on the GIL), created once per process."""
    with _IO_POOL_LOCK:
        if not _IO_POOL:
            from concurrent.futures import ThreadPoolExecutor

            _IO_POOL.append(ThreadPoolExecutor(max_workers=16, thread_name_prefix="evidence-io"))
        return _IO_POOL[0]


def _forget_io_pool() -> None:
    """In a forked child: it has none of the parent's threads, and the lock may have been held by one."""
    global _IO_POOL_LOCK
    _IO_POOL.clear()
    _IO_POOL_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_io_pool)


@dataclass(frozen=True)
class WarcLocation:
    path: str  # relative to the evidence root
    offset: int
    length: int


class EvidenceStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    # -- bodies ---------------------------------------------------------------------------------------
    def body_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / "bodies" / sha256[:2] / sha256[2:4] / f"{sha256}.gz"

    def put_body(self, data: bytes) -> str:
        """Store `data` once; returns its SHA-256. Storing the same bytes again is a no-op."""
        digest = sha256_hex(data)
        target = self.body_path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".gz")
        try:
            with os.fdopen(fd, "wb") as raw:
                # mtime=0: the same body always compresses to the same bytes
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                    gz.write(data)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def put_bodies(self, bodies: list[bytes]) -> list[str]:
        """`put_body` for many bodies at once (a crawl batch); returns their SHA-256s in order.

        The same guarantees as `put_body`: each body is written to a temporary file, fsynced, renamed into
        place and its directory fsynced, so it exists whole or not at all and is on disk when this returns.
        Only the order differs: the files are compressed, written and fsynced on parallel threads, then all
        renamed, then the directories fsynced in parallel. One body after another cost two disk flushes each
        (most of a crawl's storage time); issued together, the file system commits them in a few journal
        flushes.
        """
        digests = [sha256_hex(data) for data in bodies]
        todo: dict[str, bytes] = {}
        for digest, data in zip(digests, bodies, strict=True):
            if digest not in todo and not self.body_path(digest).exists():
                todo[digest] = data
        if not todo:
            return digests
        if len(todo) == 1:
            digest, data = next(iter(todo.items()))
            self.put_body(data)
            return digests
        written: dict[str, str] = {}  # digest -> temporary file, until renamed

        def write(item: tuple[str, bytes]) -> None:
            digest, data = item
            target = self.body_path(digest)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".gz")
            try:
                with os.fdopen(fd, "wb") as raw:
                    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                        gz.write(data)
                    raw.flush()
                    os.fsync(raw.fileno())
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written[digest] = tmp

        from concurrent.futures import wait

        pool = _io_pool()
        futures: list = []
        try:
            futures = [pool.submit(write, item) for item in todo.items()]
            wait(futures)  # every write ends (done or failed) before any rename
            for future in futures:
                future.result()
            for digest in list(written):
                os.replace(written.pop(digest), self.body_path(digest))
            list(pool.map(_fsync_dir, {self.body_path(d).parent for d in todo}))
        except BaseException:
            for future in futures:
                future.cancel()
            wait(futures)
            for tmp in written.values():  # written, not renamed: nothing refers to them
                Path(tmp).unlink(missing_ok=True)
            raise
        return digests

    def has_body(self, sha256: str) -> bool:
        return self.body_path(sha256).exists()

    def read_body(self, sha256: str) -> bytes:
        with gzip.open(self.body_path(sha256), "rb") as handle:
            return handle.read()

    # -- WARC -----------------------------------------------------------------------------------------
    def new_warc_path(self, site_slug: str, run_id: int) -> str:
        folder = self.root / "warc" / _safe(site_slug)
        folder.mkdir(parents=True, exist_ok=True)
        seq = 0
        while (folder / f"run-{run_id}-{seq}.warc.gz").exists():
            seq += 1
        return str(Path("warc") / _safe(site_slug) / f"run-{run_id}-{seq}.warc.gz")

    def open_recorder(self, relative_path: str, run_id: int) -> WarcRecorder:
        return WarcRecorder(self.root, relative_path, run_id)

    def read_record(self, location: WarcLocation) -> bytes:
        """The raw (gzip member) bytes of one record."""
        with open(self.root / location.path, "rb") as handle:
            handle.seek(location.offset)
            data = handle.read(location.length)
        if len(data) != location.length:
            raise EOFError(f"{location.path}: record at {location.offset} is truncated")
        return data

    def record_payload(self, location: WarcLocation) -> tuple[dict[str, str], bytes]:
        """WARC headers and HTTP payload (body) of the record at `location`."""
        from warcio.archiveiterator import ArchiveIterator

        stream = io.BytesIO(self.read_record(location))
        for record in ArchiveIterator(stream):
            headers = dict(record.rec_headers.headers)
            content = record.content_stream().read()
            if record.http_headers is None and record.rec_type == "response" and content.startswith(b"HTTP/"):
                # warcio parses HTTP headers only for http(s) target URIs; the recorder always writes them
                content = content.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in content else b""
            return headers, content
        raise ValueError(f"{location.path}: no WARC record at offset {location.offset}")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "site"


class WarcRecorder:
    """Appends response records to one WARC file of a run."""

    def __init__(self, root: Path, relative_path: str, run_id: int):
        self.root = root
        self.relative_path = relative_path
        self.path = root / relative_path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "ab")  # noqa: SIM115 - held open for the whole run, closed in close()
        self._writer = WARCWriter(self._file, gzip=True)
        if self._file.tell() == 0:
            info = self._writer.create_warcinfo_record(
                self.path.name,
                {"software": "narcowatch", "format": "WARC File Format 1.1", "crawl-run": str(run_id)},
            )
            self._writer.write_record(info)
            self._file.flush()

    def record_response(
        self,
        url: str,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        fetched_at: datetime,
        reason: str = "",
        extra: dict[str, str] | None = None,
    ) -> WarcLocation:
        http_headers = StatusAndHeaders(f"{status} {reason or 'OK'}".strip(), headers, protocol="HTTP/1.1")
        warc_headers = {
            "WARC-Date": fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "WARC-Payload-Digest": f"sha256:{sha256_hex(body)}",
        }
        warc_headers.update({f"X-Narcowatch-{k}": v for k, v in (extra or {}).items()})
        record = self._writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http_headers,
            warc_headers_dict=warc_headers,
        )
        offset = self._file.tell()
        self._writer.write_record(record)
        self._file.flush()
        return WarcLocation(self.relative_path, offset, self._file.tell() - offset)

    def sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> tuple[int, str]:
        """Flush, fsync and close; returns (size, sha256) of the whole file for sealing."""
        self.sync()
        self._file.close()
        return self.path.stat().st_size, file_sha256(self.path)
