"""Full-text search over listings and posts behind one function per kind.

SQLite: FTS5 (bm25 ranking); PostgreSQL: tsvector + GIN (ts_rank). The user's query is treated as words,
never as query syntax: each word becomes a quoted prefix term, so scraped or typed punctuation cannot break
the query or change its meaning.

On PostgreSQL listings are matched through `search_terms(...)` (migrations 0003, 0005 and 0006), a GIN index
of every lexeme's prefixes plus one facet term per filter value (site, category, origin, destinations): a
typed prefix is one exact lexeme lookup instead of a `'word':*` scan that collects all matching postings into
a bitmap (10-30x slower for common words), and words and filters are intersected in that one index instead of
ANDing a bitmap per filter index (a category's bitmap alone is a quarter of the table). Facets match exactly
what their SQL filters match (0006), so with only facet filters the index alone says which listings match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, cast, column, false, func, literal, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from storage.models import Listing, ListingSubstance, Post, Site

WORD = re.compile(r"\w[\w'-]*", re.UNICODE)
# the longest prefix the PostgreSQL prefix index holds (migration 0003); a longer query lexeme is looked up by
# its first PREFIX_MAX characters and rechecked as a prefix on search_vector
PREFIX_MAX = 24
# PostgreSQL "newest first" (see _pg_newest): the newest ids scanned first, and the cost of fetching one
# match through the index counted in rows scanned in id order
FIRST_WINDOW = 20_000
SCAN_VS_FETCH = 25
# when the index alone can list the matches (see _pg_newest): a smaller first window that only estimates the
# hit rate, and the most rows still to scan before listing the matches from the index is cheaper
PROBE_WINDOW = 4_000
SCAN_MAX = 15_000
# once the page is complete, the rows' worth of work (scanned, or SCAN_VS_FETCH per fetched match) that
# counting the rest may take in all; past it the count is a lower bound ("390+ listings")
COUNT_BUDGET = 60_000
WORK_MEM = "64MB"


@dataclass
class ListingFilters:
    sites: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    substances: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    destination: str | None = None
    seen_from: datetime | None = None
    seen_to: datetime | None = None
    min_price_per_unit: Decimal | None = None
    max_price_per_unit: Decimal | None = None
    active_only: bool = False


@dataclass
class SearchPage:
    total: int
    ids: list[int]
    # False when counting stopped at `count_limit`, or (PostgreSQL, newest first, filters the index cannot
    # answer) at COUNT_BUDGET: there are at least `total` matches
    exact: bool = True


def _count(session: Session, stmt: Select, count_limit: int | None) -> tuple[int, bool]:
    """Exact count, or stop at `count_limit` matches: counting every match of a common word with filters
    costs a row lookup per match (~200 ms for 100k matches at 1M listings), a capped count stops early."""
    if count_limit is None:
        return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0, True
    n = session.scalar(select(func.count()).select_from(stmt.limit(count_limit + 1).subquery())) or 0
    return min(n, count_limit), n <= count_limit


def fold(word: str) -> str:
    """Lower-case without diacritics, matching how both backends index text."""
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("ł", "l").replace("ø", "o"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_words(query: str) -> list[str]:
    return [fold(w) for w in WORD.findall(query or "")][:20]


def _fts5_expression(words: list[str]) -> str:
    return " AND ".join('"{}"*'.format(w.replace('"', '""')) for w in words)


def _tsquery_expression(words: list[str]) -> str:
    return " & ".join("'{}':*".format(re.sub(r"[^\w-]", "", w)) for w in words if re.sub(r"[^\w-]", "", w))


def _tsquery_literal(lexemes: list[str], prefix: bool = False) -> str:
    """A tsquery in its text form, each lexeme quoted (taken literally, never parsed as query syntax)."""
    suffix = ":*" if prefix else ""
    return " & ".join("'{}'{}".format(lex.replace("\\", "\\\\").replace("'", "''"), suffix) for lex in lexemes)


def _pg_facets(session: Session, f: ListingFilters) -> list[str]:
    """tsquery text of the filters that the search_terms index holds as facets ('§s3', '§cstimulants', ...):
    one OR group per filter, ANDed with the words. The SQL filters are applied as well; facets only let the
    index return fewer candidates, so they must never leave out a listing the filters keep."""
    groups = []
    if f.sites:
        site_ids = session.scalars(select(Site.id).where(Site.slug.in_(f.sites))).all()
        groups.append([f"§s{i}" for i in site_ids] or ["§s-none"])  # no such site: nothing matches
    if f.categories:
        groups.append([f"§c{c}" for c in f.categories])
    if f.origins:
        groups.append([f"§o{o.upper()}" for o in f.origins])
    if f.destination:
        groups.append([f"§d{f.destination.upper()}"])
    return ["(" + " | ".join(_tsquery_literal([t]) for t in sorted(set(g))) + ")" for g in groups]


def _pg_index_ids(session: Session, indexed, limit: int) -> list[int]:
    """Up to `limit` ids matching an index-only condition, in no order: one bitmap scan of the GIN index,
    then the table in physical order until `limit` rows (no sort, no random page reads)."""
    return list(session.scalars(select(Listing.id).where(indexed).limit(limit)))


def _pg_listing_match(session: Session, words: list[str], facets: list[str] | None = None):
    """(indexed condition, per-row condition, ranking tsquery, whether the indexed condition needs no recheck
    on the row) for listings on PostgreSQL. The words are split
    into lexemes by PostgreSQL's own parser (as the documents were); each lexeme must be a prefix of one in
    the listing. Both conditions say that: the first through the search_terms index (search_terms() is
    costly per row), together with the filters' `facets` (see _pg_facets); the second as a cheap check of
    the stored search_vector for a scan in id order (where the SQL filters do the filtering)."""
    # In the same round trip, for this transaction only: bitmaps of common words over 1M rows outgrow the
    # default 4 MB work_mem and turn lossy, and a lossy page is rechecked by computing search_terms() for
    # each of its rows (5x slower); JIT compiling costs ~100 ms, more than any of these queries, and starting
    # parallel workers 5-15 ms, more than they save on queries that stop after a page.
    lexemes = session.execute(select(
        func.tsvector_to_array(func.to_tsvector("simple", " ".join(words))),
        func.set_config("work_mem", WORK_MEM, True), func.set_config("jit", "off", True),
        func.set_config("max_parallel_workers_per_gather", "0", True))).first()[0] or []
    if not lexemes:
        return false(), false(), None, False
    vector = literal_column("listings.search_vector")
    exact_text = " & ".join([_tsquery_literal(sorted({lex[:PREFIX_MAX] for lex in lexemes})), *(facets or [])])
    exact = cast(literal(exact_text), TSQUERY)
    prefixes = cast(literal(_tsquery_literal(lexemes, prefix=True)), TSQUERY)
    terms = func.search_terms(vector, Listing.site_id, Listing.category, Listing.ships_from,
                              literal_column("listings.ships_to"))
    indexed = terms.op("@@")(exact)
    per_row = vector.op("@@")(prefixes)
    index_only = all(len(lex) <= PREFIX_MAX for lex in lexemes)
    if not index_only:
        indexed = indexed & per_row
    return indexed, per_row, prefixes, index_only


def _text_match(session: Session, stmt: Select, model, table_fts: str, words: list[str],
                ranked: bool = True, facets: list[str] | None = None) -> tuple[Select, object]:
    """Restrict `stmt` to rows matching all words. Returns the statement and its ordering: the rank (lower
    is better) when `ranked`, else the newest first (id descending). Unranked, no score is computed per
    match, which is what makes "newest first" cheap: on SQLite the FTS5 table drives the join in
    descending rowid order, so the search stops after one page of rows that pass the filters instead of
    collecting every match of a common word first."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite and not ranked:
        fts = table(table_fts, column("rowid"))
        stmt = stmt.select_from(fts).join(model, model.id == fts.c.rowid).where(
            text(f"{table_fts} MATCH :q").bindparams(q=_fts5_expression(words)))
        return stmt, fts.c.rowid.desc()
    if sqlite:
        fts = text(f"SELECT rowid AS rid, bm25({table_fts}) AS rank FROM {table_fts} "
                   f"WHERE {table_fts} MATCH :q").columns(literal_column("rid"), literal_column("rank"))
        sub = fts.bindparams(q=_fts5_expression(words)).subquery("fts")
        return stmt.join(sub, sub.c.rid == model.id), sub.c.rank  # lower bm25 is better
    vector = literal_column(f"{model.__tablename__}.search_vector")
    if model is Listing:
        condition, _, tsq, _ = _pg_listing_match(session, words, facets)
    else:
        tsq = func.to_tsquery("simple", _tsquery_expression(words))
        condition = vector.op("@@")(tsq)
    stmt = stmt.where(condition)
    if not ranked or tsq is None:
        return stmt, model.id.desc()
    return stmt, -func.ts_rank(vector, tsq)


def _pg_newest(session: Session, stmt: Select, fetch: Select, indexed, per_row, want: int,
               page: int | None = None, index_ids=None) -> tuple[list[int], int, bool]:
    """The first `want` ids of `stmt` (filters only) matching the words, newest first, on PostgreSQL; how
    many there are, capped at `want`; and whether that count is complete (False: it is a lower bound).
    `fetch` is `stmt` without the filters that `indexed` holds as facets.

    GIN returns matches in no useful order, so `ORDER BY id DESC LIMIT n` over the index fetches every
    match from the table to sort them (50k heap pages for a word in 10% of 1M listings). When matches are
    common it is cheaper to walk the newest ids in primary-key order and check each row's search_vector,
    stopping once enough are found. So: scan a first window of the newest ids; from its hit rate, estimate
    what finishing by scanning costs (rows still to read) against finishing through the prefix index (the
    matches still to fetch, each a random heap page, ~SCAN_VS_FETCH rows' worth); take the cheaper way.

    `page` is how many ids the caller shows; the rest of `want` only counts. `index_ids(limit)`, when given,
    lists up to `limit` matches from the index alone (every filter is a facet, no long word): the first
    window is then a small probe, and when finishing by scanning would read more than SCAN_MAX rows the
    index lists the matches. Fewer than `want` are all of them (sorted here: one query answers the count and
    the page); else the count is `want` and only the page is still needed. Without it, once the page is
    complete, counting stops after COUNT_BUDGET rows' worth of work and the count is a lower bound."""
    top = session.scalar(select(func.max(Listing.id)))
    head: list[int] = []
    if top is None:
        return head, 0, True
    hi, scanned, counted = top, 0, None
    width = FIRST_WINDOW if index_ids is None else PROBE_WINDOW
    while hi > 0:
        lo = hi - width
        part = stmt.where(per_row, Listing.id <= hi)
        if lo > 0:
            part = part.where(Listing.id > lo)
        head += session.scalars(part.order_by(Listing.id.desc()).limit(want - len(head)))
        scanned += min(width, hi)
        hi = lo
        if len(head) >= want or hi <= 0:
            return head, counted if counted is not None else len(head), True
        rate = len(head) / scanned
        to_scan = (want - len(head)) / rate if rate else float("inf")
        if counted is None and index_ids is not None and to_scan > SCAN_MAX:
            listed = index_ids(want)
            if len(listed) < want:
                return sorted(listed, reverse=True), len(listed), True
            counted, want = len(listed), min(want, page or want)
            if len(head) >= want:
                return head, counted, True
            to_scan = (want - len(head)) / rate if rate else float("inf")
        to_fetch = rate * hi
        if counted is None and page is not None and len(head) >= page:
            # the page is complete and only counting is left: within the budget, else a lower bound
            if scanned >= COUNT_BUDGET:
                return head, len(head), False
            if min(to_scan, SCAN_VS_FETCH * to_fetch) > COUNT_BUDGET - scanned:
                width = COUNT_BUDGET - scanned  # count what the rest of the budget scans, then stop
                continue
        if to_scan > SCAN_VS_FETCH * to_fetch:
            break
        width = int(to_scan * 1.2) + 1
    rest = fetch.where(indexed, Listing.id <= hi).order_by(Listing.id.desc()).limit(want - len(head))
    head += session.scalars(rest)
    return head, counted if counted is not None else len(head), True


def _filter_conditions(session: Session, f: ListingFilters, words: list[str]) -> tuple[list, list]:
    """The filters as SQL conditions: (those PostgreSQL's search_terms index also holds as exact facets:
    site, category, origin, destination; the others)."""
    facet, other = [], []
    sqlite = session.get_bind().dialect.name == "sqlite"
    if f.sites:
        facet.append(Listing.site_id.in_(select(Site.id).where(Site.slug.in_(f.sites))))
    if f.categories:
        facet.append(Listing.category.in_(f.categories))
    if f.origins:
        facet.append(Listing.ships_from.in_([o.upper() for o in f.origins]))
    if f.destination:
        dest = f.destination.upper()
        if not sqlite:
            facet.append(literal_column("listings.ships_to").op("?")(dest))
        else:
            # a substring test on the JSON text instead of json_each(): no table-valued function per row (~5x
            # faster); exact because elements are quoted codes and quotes are refused in the code itself, and
            # case-sensitive (instr, not LIKE) as PostgreSQL's `?` is
            code = re.sub(r"[^A-Z0-9-]", "", dest)
            facet.append(func.instr(literal_column("listings.ships_to"), f'"{code}"') > 0)
    if f.substances:
        listing_id = Listing.id
        if sqlite and not words and (f.sites or f.categories or f.origins):
            # SQLite would look up every listing of the substance (230k for cannabis at 1M) and sort them; the
            # unary + keeps it on the (filter, last_seen) index walked newest first, which stops after a page
            listing_id = literal_column("+listings.id")
        other.append(listing_id.in_(select(ListingSubstance.listing_id).where(
            ListingSubstance.substance.in_(f.substances))))
    if f.seen_from:
        other.append(Listing.last_seen >= f.seen_from)
    if f.seen_to:
        other.append(Listing.first_seen <= f.seen_to)
    if f.min_price_per_unit is not None:
        other.append(Listing.price_per_unit >= f.min_price_per_unit)
    if f.max_price_per_unit is not None:
        other.append(Listing.price_per_unit <= f.max_price_per_unit)
    if f.active_only:
        other.append(Listing.active.is_(True))
    return facet, other


def search_listings(session: Session, query: str = "", filters: ListingFilters | None = None,
                    limit: int = 50, offset: int = 0, order: str = "relevance",
                    count_limit: int | None = None) -> SearchPage:
    """order: "relevance" (bm25 / ts_rank, then id) or "newest" (id descending: most recently first seen).
    "newest" lets FTS5 walk its rowid-ordered index backwards and stop after one page instead of ranking
    every match (8 ms instead of 160 ms for a word in 10% of 1M listings). Without words the order is
    last_seen descending either way."""
    f = filters or ListingFilters()
    stmt = select(Listing.id)
    rank = None
    words = query_words(query)
    pg_newest = None
    postgresql = session.get_bind().dialect.name == "postgresql"
    facets = _pg_facets(session, f) if words and postgresql else None
    if (words and order == "newest" and count_limit is not None and offset + limit <= count_limit + 1
            and postgresql):
        pg_newest = _pg_listing_match(session, words, facets)  # matched in _pg_newest, after the filters
    elif words:
        stmt, rank = _text_match(session, stmt, Listing, "listings_fts", words, ranked=order != "newest",
                                 facets=facets)
    facet_filters, other_filters = _filter_conditions(session, f, words)
    stmt = stmt.where(*facet_filters, *other_filters)
    if words and order == "newest":
        ordering = [rank]
    elif rank is not None:
        ordering = [rank, Listing.id]
    else:  # id descending on ties: the order of the (filter, last_seen, id) indexes read backwards
        ordering = [Listing.last_seen.desc(), Listing.id.desc()]
    if count_limit is not None and offset + limit <= count_limit + 1:
        # one statement gives the page and the capped count: the first count_limit + 1 ids in order. Running
        # the match twice (a count, then a page) costs twice the full-text lookup or filter scan.
        if pg_newest is not None:
            indexed, per_row, _, index_only = pg_newest
            lister = None
            if index_only and not other_filters:  # every filter is a facet: the index alone says which match
                def lister(cap: int) -> list[int]:
                    return _pg_index_ids(session, indexed, cap)
            # fetched through the index, the facet filters are in `indexed`: their own indexes would only add
            # bitmaps of 100k rows to AND (the planner cannot know the facets say the same)
            fetch = select(Listing.id).where(*other_filters)
            head, found, complete = _pg_newest(session, stmt, fetch, indexed, per_row, count_limit + 1,
                                               offset + limit, lister)
        else:
            head = list(session.scalars(stmt.order_by(*ordering).limit(count_limit + 1)))
            found, complete = len(head), True
        return SearchPage(min(found, count_limit), head[offset:offset + limit], complete and found <= count_limit)
    total, exact = _count(session, stmt, count_limit)
    ids = list(session.scalars(stmt.order_by(*ordering).limit(limit).offset(offset)))
    return SearchPage(total, ids, exact)


def search_posts(session: Session, query: str = "", sites: list[str] | None = None,
                 limit: int = 50, offset: int = 0) -> SearchPage:
    stmt = select(Post.id)
    rank = None
    words = query_words(query)
    if words:
        stmt, rank = _text_match(session, stmt, Post, "posts_fts", words)
    if sites:
        stmt = stmt.join(Site, Site.id == Post.site_id).where(Site.slug.in_(sites))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    order = [rank, Post.id] if rank is not None else [Post.posted_at.desc(), Post.id]
    ids = list(session.scalars(stmt.order_by(*order).limit(limit).offset(offset)))
    return SearchPage(total or 0, ids)
