"""Records that vendor alias clustering reads and writes: plain frozen dataclasses, no database.

`Account` mirrors one vendor account on one site (the `narcowatch cluster --input` line), `Feedback` one
investigator decision, `ClusterResult` what `cluster_accounts` returns. Everything here is JSON-friendly
through `to_dict()` / `from_dict()` so the CLI and, later, storage/ can move it in and out unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FEEDBACK_KINDS = ("confirm", "reject", "split", "merge")


class RecordError(ValueError):
    """A record that cannot be used, with the field at fault named in the message."""


def _strs(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, Iterable):
        out = []
        for item in value:
            if item is None:
                continue
            if not isinstance(item, str | int | float):
                raise RecordError(f"field {name!r}: expected a list of strings, got an item {item!r}")
            text = str(item).strip()
            if text:
                out.append(text)
        return tuple(out)
    raise RecordError(f"field {name!r}: expected a string or a list of strings, got {type(value).__name__}")


MENTION_SEP = "\x1f"


def _mentions(value: Any) -> tuple[str, ...]:
    """Mentions as bare handles or {"site", "handle"} objects (the latter scoped to that site)."""
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            if isinstance(item, Mapping):
                handle, site = item.get("handle"), item.get("site")
                if not isinstance(handle, str) or not handle.strip():
                    raise RecordError(f"field 'mentions': an object needs a 'handle' string, got {dict(item)!r}")
                out.append(f"{site}{MENTION_SEP}{handle.strip()}" if isinstance(site, str) and site else
                           handle.strip())
            else:
                out.extend(_strs([item], "mentions"))
        return tuple(out)
    return _strs(value, "mentions")


@dataclass(frozen=True, slots=True)
class Account:
    """One vendor account on one site. Only `account_id`, `site` and `handle` are required.

    Two optional fields go beyond the CLI contract's minimum: `products`, the substances or categories the
    account sells (from the extractors), sharpens the product-mix evidence (without it, product words are
    read from `titles`); `mentions`, handles the account gives as its own shop or alias elsewhere
    ("Shop: DrGreen on Cobalt"), counts when the other account has that handle. A mention given as
    {"site", "handle"} counts only for the account with that handle on that site (stored as
    "site" + MENTION_SEP + "handle"); a bare handle counts on any site.
    """

    account_id: str
    site: str
    handle: str
    pgp_fingerprints: tuple[str, ...] = ()
    wallets: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()
    ships_from: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    profile: str = ""
    products: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        if not isinstance(data, Mapping):
            raise RecordError(f"expected a JSON object, got {type(data).__name__}")
        missing = [k for k in ("account_id", "site", "handle") if data.get(k) in (None, "")]
        if missing:
            raise RecordError(f"missing required field(s) {', '.join(missing)}")
        profile = data.get("profile") or ""
        if not isinstance(profile, str):
            raise RecordError(f"field 'profile': expected a string, got {type(profile).__name__}")
        return cls(
            account_id=str(data["account_id"]),
            site=str(data["site"]),
            handle=str(data["handle"]),
            pgp_fingerprints=_strs(data.get("pgp_fingerprints"), "pgp_fingerprints"),
            wallets=_strs(data.get("wallets"), "wallets"),
            contacts=_strs(data.get("contacts"), "contacts"),
            ships_from=_strs(data.get("ships_from"), "ships_from"),
            titles=_strs(data.get("titles"), "titles"),
            profile=profile,
            products=_strs(data.get("products"), "products"),
            mentions=_mentions(data.get("mentions")),
        )


@dataclass(frozen=True, slots=True)
class Feedback:
    """One investigator decision; every later clustering respects it.

    - confirm: `account_a` and `account_b` are the same trafficker (must-link).
    - reject: they are not (cannot-link, also transitively: no cluster may hold both).
    - merge: all of `members` are one trafficker (must-link along the list).
    - split: no account of `members` is the same trafficker as any account of `others` (cannot-link across).
    When two decisions on the same pair disagree, the later `when` wins.
    """

    kind: str
    who: str
    when: datetime
    account_a: str | None = None
    account_b: str | None = None
    members: tuple[str, ...] = ()
    others: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in FEEDBACK_KINDS:
            raise RecordError(f"field 'kind': {self.kind!r} is not one of {', '.join(FEEDBACK_KINDS)}")
        if not self.who:
            raise RecordError("field 'who': say who decided (an investigator's name or id)")
        if self.kind in ("confirm", "reject") and not (self.account_a and self.account_b):
            raise RecordError(f"a {self.kind} needs both 'account_a' and 'account_b'")
        if self.kind == "merge" and len(self.members) < 2:
            raise RecordError("a merge needs at least two account ids in 'members'")
        if self.kind == "split" and not (self.members and self.others):
            raise RecordError("a split needs 'members' (one side) and 'others' (the other side)")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Feedback:
        if not isinstance(data, Mapping):
            raise RecordError(f"expected a JSON object, got {type(data).__name__}")
        when = data.get("when")
        if isinstance(when, str):
            try:
                when = datetime.fromisoformat(when.replace("Z", "+00:00"))
            except ValueError as exc:
                raise RecordError(f"field 'when': {when!r} is not an ISO 8601 date-time") from exc
        if not isinstance(when, datetime):
            raise RecordError("field 'when': an ISO 8601 date-time is required, e.g. 2024-05-01T14:03:00Z")
        return cls(
            kind=str(data.get("kind") or ""),
            who=str(data.get("who") or ""),
            when=when,
            account_a=None if data.get("account_a") is None else str(data["account_a"]),
            account_b=None if data.get("account_b") is None else str(data["account_b"]),
            members=_strs(data.get("members"), "members"),
            others=_strs(data.get("others"), "others"),
            note=str(data.get("note") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "who": self.who, "when": self.when.isoformat()}
        if self.account_a is not None:
            out["account_a"] = self.account_a
        if self.account_b is not None:
            out["account_b"] = self.account_b
        if self.members:
            out["members"] = list(self.members)
        if self.others:
            out["others"] = list(self.others)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Link:
    """Evidence that two accounts are one trafficker.

    `score` is a probability-like confidence in [0, 1]; `evidence` holds the facts (machine-readable),
    `sentence` says them for an investigator. `status`: "joined" (the link holds the cluster together or
    agrees with it), "blocked" (strong enough on its own but refused: an investigator's rejection or
    accounts with different PGP keys already on the other side), "confirmed" (investigator must-link).
    """

    a: str
    b: str
    score: float
    evidence: dict[str, Any]
    sentence: str
    status: str = "joined"

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "score": round(self.score, 4), "status": self.status,
                "sentence": self.sentence, "evidence": self.evidence}


@dataclass(frozen=True, slots=True)
class Cluster:
    """Accounts judged to be one trafficker. `confidence`: the weakest link that holds it together
    (1.0 for a single account: nothing is asserted)."""

    cluster_id: str
    members: tuple[str, ...]
    confidence: float


@dataclass(slots=True)
class ClusterResult:
    clusters: list[Cluster]
    links: list[Link]
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def assignments(self) -> dict[str, Cluster]:
        """account_id -> its cluster."""
        return {m: c for c in self.clusters for m in c.members}
