"""Which listings were active, new or vanished in a week, and what one of them cost per gram/ml/unit.

Storage keeps a snapshot only when something tracked changes (and when a listing is first seen or goes
inactive), so "seen in week W" is reconstructed from first_seen/last_seen, the snapshots, and the site's
crawl runs in W. docs/report.md states the definitions these functions implement.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from reports.data import Dataset, ListingRow, RunRow, State
from reports.rates import RateTable
from reports.weeks import Week
from storage.units import unit_basis

PER_LISTING = Decimal("0.0001")
PER_MEDIAN = Decimal("0.01")


def price_per_basis(listing: ListingRow, state: State, rates: RateTable) -> tuple[str | None, Decimal | None, str]:
    """(basis, reporting-currency price per gram/ml/unit rounded to 4 decimals, problem).

    Price and quantity are what the page showed; price_per_unit (storage's normalised figure) is used only
    when no quantity was stored. problem is "" or one of no_price, no_quantity, unknown_unit, no_rate.
    """
    basis = unit_basis(listing.unit)
    if state.price is None and state.price_per_unit is None:
        return None, None, "no_price"
    if basis is None:
        return None, None, "unknown_unit" if listing.unit else "no_quantity"
    name, factor = basis
    if state.price is not None and listing.quantity and listing.quantity > 0:
        local = state.price / (Decimal(str(listing.quantity)) * factor)
    elif state.price_per_unit is not None:
        local = state.price_per_unit
    else:
        return name, None, "no_quantity"
    value = rates.convert(local, state.currency)
    if value is None:
        return name, None, "no_rate"
    return name, value.quantize(PER_LISTING, rounding=ROUND_HALF_UP), ""


class Activity:
    """Per-week sets of active, new and vanished listing ids over the dataset's window."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.ok_runs: dict[tuple[int, Week], list[RunRow]] = defaultdict(list)
        for run in ds.runs:
            if run.ok:
                self.ok_runs[(run.site_id, Week.of(run.started_at))].append(run)
        self.run_started = {run.id: run.started_at for run in ds.runs}
        self.active: dict[Week, set[int]] = {}
        self.new: dict[Week, set[int]] = {}
        self.vanished: dict[Week, set[int]] = {}
        self.by_id = {li.id: li for li in ds.listings}
        for w in ds.weeks:
            self.active[w] = {li.id for li in ds.listings if self._seen_in(li, w)}
            self.new[w] = {li.id for li in ds.listings if w.contains(li.first_seen)}
            self.vanished[w] = {li.id for li in ds.listings
                                if any(not s.active and w.contains(s.observed_at) for s in li.states)}

    def site_crawled(self, site_id: int, w: Week) -> bool:
        return bool(self.ok_runs.get((site_id, w)))

    def _seen_in(self, li: ListingRow, w: Week) -> bool:
        if not (li.first_seen < w.end and li.last_seen >= w.start) or not self.site_crawled(li.site_id, w):
            return False
        inside = [s for s in li.states if w.contains(s.observed_at)]
        if any(s.active for s in inside):
            return True
        before = li.state_before(w.start)
        was_active = before.active if before is not None else li.first_seen < w.start
        if not was_active:
            return False
        if not inside:
            return True
        # it went inactive in W: seen only if a successful crawl of W ran before the one that missed it
        gone = inside[0]
        gone_at = self.run_started.get(gone.run_id, gone.observed_at) if gone.run_id else gone.observed_at
        return any(r.started_at < gone_at and r.id != gone.run_id for r in self.ok_runs[(li.site_id, w)])

    def state(self, li: ListingRow, w: Week) -> State:
        """The listing's tracked fields as last recorded before the end of `w`."""
        return li.state_before(w.end) or li.row_state

    def first_ok_run(self, site_id: int) -> datetime | None:
        return self.ds.first_run_at.get(site_id)
