"""ISO weeks (Monday 00:00 to next Monday 00:00, UTC): the reporting period of every weekly figure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.I)


@dataclass(frozen=True, order=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """'2026-W47' (or '2026W47') -> Week; ValueError with the expected form otherwise."""
        match = _WEEK.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not an ISO week: write it as YYYY-Www, e.g. 2026-W47")
        year, number = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise ValueError(f"{text!r}: {year} has no ISO week {number}") from exc
        return cls(year, number)

    @classmethod
    def of(cls, moment: date | datetime) -> Week:
        if isinstance(moment, datetime):
            moment = moment.astimezone(UTC).date()
        year, number, _ = moment.isocalendar()
        return cls(year, number)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        """First instant of the week (inclusive)."""
        return datetime.combine(self.monday, datetime.min.time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """First instant after the week (exclusive)."""
        return self.start + timedelta(days=7)

    def shift(self, weeks: int) -> Week:
        return Week.of(self.monday + timedelta(weeks=weeks))

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"


def last_complete_week(now: datetime) -> Week:
    """The ISO week before the one `now` falls in: what the Monday-morning job reports."""
    return Week.of(now).shift(-1)
