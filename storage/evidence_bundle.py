"""`narcowatch evidence export --listing ID`: a self-contained bundle for a prosecutor.

The zip holds the listing's data and history (listing.json), every page it came from (bodies as fetched,
screenshots), the original WARC records copied byte for byte into evidence.warc.gz, and manifest.json +
SHA256SUMS naming each file with its SHA-256. Each record's original location (file, offset, length) and
hash is in the manifest, so it can be checked against the archive it came from.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from narcowatch import __version__
from storage.evidence import EvidenceStore, WarcLocation, sha256_hex
from storage.models import Listing, ListingSnapshot, Page, Site, VendorAccount


class ExportError(RuntimeError):
    pass


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal
        return str(value)
    return value


def _row(obj, columns: list[str]) -> dict:
    return {c: _jsonable(getattr(obj, c)) for c in columns}


def _extension(content_type: str | None) -> str:
    if content_type and "json" in content_type:
        return ".json"
    if content_type and "html" in content_type:
        return ".html"
    return ".bin"


def export_listing(
    session: Session, store: EvidenceStore, listing_id: int, out: Path, exported_by: str = "cli"
) -> dict:
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise ExportError(f"no listing with id {listing_id}; find ids with the search")
    site = session.get(Site, listing.site_id)
    vendor = session.get(VendorAccount, listing.vendor_account_id) if listing.vendor_account_id else None
    snapshots = list(
        session.scalars(
            select(ListingSnapshot)
            .where(ListingSnapshot.listing_id == listing.id)
            .order_by(ListingSnapshot.observed_at, ListingSnapshot.id)
        )
    )
    page_ids = {p for p in [listing.page_id, vendor.page_id if vendor else None] if p}
    page_ids |= {s.page_id for s in snapshots if s.page_id}
    pages = list(
        session.scalars(
            select(Page)
            .where(or_(Page.id.in_(page_ids), (Page.site_id == listing.site_id) & (Page.url == listing.url)))
            .order_by(Page.fetched_at, Page.id)
        )
    )
    if not pages:
        raise ExportError(f"listing {listing_id} has no stored pages to export")

    files: dict[str, bytes] = {}
    manifest_pages = []
    warc_bytes = bytearray()
    for page in pages:
        body = store.read_body(page.sha256)
        if sha256_hex(body) != page.sha256:
            raise ExportError(
                f"page {page.id} body no longer hashes to {page.sha256}: run `narcowatch evidence verify`"
            )
        name = f"pages/{page.id}-{page.sha256[:12]}{_extension(page.content_type)}"
        files[name] = body
        record = store.read_record(WarcLocation(page.warc_path, page.warc_offset, page.warc_length))
        entry = {
            "page_id": page.id,
            "url": page.url,
            "fetched_at": page.fetched_at.isoformat(),
            "status": page.status,
            "fetch_mode": page.fetch_mode,
            "body_file": name,
            "body_sha256": page.sha256,
            "warc_source": {
                "file": page.warc_path,
                "offset": page.warc_offset,
                "length": page.warc_length,
                "record_sha256": sha256_hex(record),
            },
            "bundle_warc_offset": len(warc_bytes),
        }
        warc_bytes += record
        if page.screenshot_sha256:
            shot = f"screenshots/{page.id}-{page.screenshot_sha256[:12]}.png"
            files[shot] = store.read_body(page.screenshot_sha256)
            entry["screenshot_file"] = shot
            entry["screenshot_sha256"] = page.screenshot_sha256
        manifest_pages.append(entry)
    files["evidence.warc.gz"] = bytes(warc_bytes)
    listing_columns = [c.key for c in Listing.__table__.columns]
    snapshot_columns = [c.key for c in ListingSnapshot.__table__.columns]
    files["listing.json"] = json.dumps(
        {
            "site": {"slug": site.slug, "name": site.name, "base_url": site.base_url},
            "listing": _row(listing, listing_columns),
            "vendor": {"handle": vendor.handle, "url": vendor.url, "profile": vendor.profile}
            if vendor
            else None,
            "snapshots": [_row(s, snapshot_columns) for s in snapshots],
        },
        indent=2,
        sort_keys=True,
        default=_jsonable,
    ).encode()
    manifest = {
        "format": "narcowatch-evidence-bundle/1",
        "software": f"narcowatch {__version__}",
        "exported_at": datetime.now(UTC).isoformat(),
        "exported_by": exported_by,
        "listing_id": listing.id,
        "pages": manifest_pages,
        "files": {name: sha256_hex(data) for name, data in sorted(files.items())},
    }
    files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    sums = "".join(f"{sha256_hex(data)}  {name}\n" for name, data in sorted(files.items()))
    files["SHA256SUMS"] = sums.encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in sorted(files.items()):
            bundle.writestr(name, data)
    tmp.replace(out)
    return manifest
