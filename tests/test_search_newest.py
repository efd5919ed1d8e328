"""Newest-first search with a capped count, on SQLite and PostgreSQL: the ids are exactly the newest matches
whichever way the backend finds them (PostgreSQL: id-order scan windows, or the prefix index for the rest;
without words, last_seen order, here the same as id order)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

import storage.search as search_module
from storage.models import Listing, ListingSubstance, Site
from storage.search import ListingFilters, search_listings

T0 = datetime(2026, 1, 1, tzinfo=UTC)
N = 1200
ORIGINS = ["NL", "DE", "GB", "US", "ES"]


def _title(i: int) -> str:
    words = ["lot"]
    if i % 3 == 0:
        words.append("alphabet")
    if i % 40 == 0:
        words.append("betamax")
    if i % 400 == 7:
        words.append("gammaray")
    if i % 5 == 0:
        words.append("cocaïne")
    return " ".join(words) + f" item{i}"


@pytest.fixture
def many(session):
    session.add_all([Site(id=k, slug=f"s{k}", name=f"s{k}", kind="market", base_url=f"http://s{k}.test/",
                          is_onion=False, created_at=T0) for k in (1, 2)])
    session.flush()
    session.execute(insert(Listing), [
        {"id": i, "site_id": 1 + i % 2, "external_id": f"E{i}", "url": f"http://s.test/{i}", "title": _title(i),
         "description": None, "first_seen": T0 + timedelta(minutes=i), "last_seen": T0 + timedelta(minutes=i),
         "needs_review": False, "active": True, "category": "stimulants" if i % 2 else "cannabis",
         "ships_from": ORIGINS[i % 5], "ships_to": ["DE", "FR"] if i % 4 == 0 else ["WW"]}
        for i in range(1, N + 1)])
    session.execute(insert(ListingSubstance), [{"listing_id": i, "substance": "cocaine"}
                                               for i in range(1, N + 1) if i % 7 == 0])
    session.commit()


def _expected(pred, want):
    return [i for i in range(N, 0, -1) if pred(i)][:want]


@pytest.mark.parametrize("first_window,count_limit", [(50, 30), (20_000, 1000)])
def test_newest_with_capped_count_returns_exactly_the_newest_matches(session, many, monkeypatch, first_window,
                                                                      count_limit):
    # a small first window makes PostgreSQL take several scan windows and then the index for the rest
    monkeypatch.setattr(search_module, "FIRST_WINDOW", first_window)
    monkeypatch.setattr(search_module, "PROBE_WINDOW", first_window)
    monkeypatch.setattr(search_module, "SCAN_MAX", first_window)
    want = count_limit + 1
    cases = [
        ("alpha", ListingFilters(), lambda i: i % 3 == 0),  # common: found by scanning
        ("bet", ListingFilters(), lambda i: i % 40 == 0),
        ("gammaray", ListingFilters(), lambda i: i % 400 == 7),  # rare: the index
        ("alph beta", ListingFilters(), lambda i: i % 3 == 0 and i % 40 == 0),
        ("alpha", ListingFilters(sites=["s2"]), lambda i: i % 3 == 0 and i % 2 == 1),
        ("cocaine", ListingFilters(), lambda i: i % 5 == 0),  # accent folded
        ("nothingmatches", ListingFilters(), lambda i: False),
        ("", ListingFilters(substances=["cocaine"], sites=["s1"]), lambda i: i % 7 == 0 and i % 2 == 0),
        ("alpha", ListingFilters(substances=["cocaine"]), lambda i: i % 7 == 0 and i % 3 == 0),
        # filters that PostgreSQL also intersects in its search_terms index (facets), any case
        ("alpha", ListingFilters(categories=["stimulants"], origins=["nl", "DE"]),
         lambda i: i % 3 == 0 and i % 2 == 1 and i % 5 in (0, 1)),
        ("bet", ListingFilters(destination="de"), lambda i: i % 40 == 0),
        ("alpha", ListingFilters(destination="WW", sites=["s1", "s2"]), lambda i: i % 3 == 0 and i % 4 != 0),
        ("gammaray", ListingFilters(categories=["stimulants"]), lambda i: i % 400 == 7),  # rare: the index
        ("gammaray", ListingFilters(origins=["gb"], destination="ww", sites=["s2"]), lambda i: i % 400 == 7),
        ("alpha", ListingFilters(sites=["no-such-site"]), lambda i: False),
    ]
    for words, filters, pred in cases:
        page = search_listings(session, words, filters, limit=want, order="newest", count_limit=count_limit)
        expected = _expected(pred, want)
        assert page.ids == expected[:want], (words, filters)
        assert page.total == min(len(expected), count_limit) and page.exact == (len(expected) <= count_limit)
        # the next pages come from the same list
        second = search_listings(session, words, filters, limit=10, offset=10, order="newest",
                                 count_limit=count_limit)
        assert second.ids == expected[10:20]


def test_ranked_search_with_filters_finds_the_same_listings(session, many):
    """Best match first (PostgreSQL: the search_terms index with facets, ranked): the same set of listings
    as the filters and words say."""
    filters = ListingFilters(categories=["cannabis"], origins=["GB"], destination="DE")
    page = search_listings(session, "alpha", filters, limit=N, order="relevance")
    expected = {i for i in range(1, N + 1) if i % 3 == 0 and i % 2 == 0 and i % 5 == 2 and i % 4 == 0}
    assert expected and set(page.ids) == expected and page.total == len(expected)


def test_capped_count_from_the_index_matches_the_filters_exactly(session, many, monkeypatch):
    """With words and only facet filters, PostgreSQL counts from the search_terms index alone (no row is
    rechecked), so each facet must match exactly what its SQL filter matches: stored values in another case
    than the filters compare ('Stimulants', 'nl', 'de') are not counted, on either backend."""
    # the newest 50 hold no match: PostgreSQL lists the matches from the index
    monkeypatch.setattr(search_module, "FIRST_WINDOW", 50)
    monkeypatch.setattr(search_module, "PROBE_WINDOW", 50)
    monkeypatch.setattr(search_module, "SCAN_MAX", 0)
    listed = []
    index_ids = search_module._pg_index_ids
    monkeypatch.setattr(search_module, "_pg_index_ids", lambda *a: listed.append(a) or index_ids(*a))
    session.execute(insert(Listing), [
        {"id": i, "site_id": 1, "external_id": f"E{i}", "url": f"http://s.test/{i}", "title": "gammaray odd case",
         "description": None, "first_seen": T0 + timedelta(minutes=i), "last_seen": T0 + timedelta(minutes=i),
         "needs_review": False, "active": True, "category": "Stimulants", "ships_from": "nl", "ships_to": ["de"]}
        for i in range(N + 1, N + 61)])
    session.commit()
    rare = [i for i in range(N, 0, -1) if i % 400 == 7]  # 807, 407, 7: stimulants (odd), origins GB, GB, GB
    cases = [
        (ListingFilters(categories=["stimulants"]), rare),
        (ListingFilters(origins=["NL", "GB"]), rare),
        (ListingFilters(destination="DE"), []),
        (ListingFilters(destination="WW", sites=["s2"]), rare),
        (ListingFilters(categories=["Stimulants"]), list(range(N + 60, N, -1))),
        (ListingFilters(), list(range(N + 60, N, -1)) + rare),
    ]
    for filters, expected in cases:
        for limit in (2, 10):
            for cap in (30, 100):
                page = search_listings(session, "gammaray", filters, limit=limit, order="newest", count_limit=cap)
                assert page.ids == expected[:limit], filters
                assert (page.total, page.exact) == (min(len(expected), cap), len(expected) <= cap), filters
    assert bool(listed) == (session.get_bind().dialect.name == "postgresql")


def test_count_past_the_work_budget_is_a_lower_bound_and_the_page_stays_exact(session, many, monkeypatch):
    """PostgreSQL, newest first, with a filter the index cannot answer (substance, dates, price, active):
    once the page is complete, counting stops after COUNT_BUDGET rows' worth of work and the total is a lower
    bound (shown as "N+"), never more than the true count. The ids are the newest matches either way."""
    monkeypatch.setattr(search_module, "FIRST_WINDOW", 100)
    monkeypatch.setattr(search_module, "COUNT_BUDGET", 300)
    postgresql = session.get_bind().dialect.name == "postgresql"
    cases = [  # (words, filters, predicate, whether PostgreSQL must stop at the budget)
        # 57 matches in 1200: exact or a lower bound, whichever the costs say
        ("alpha", ListingFilters(substances=["cocaine"]), lambda i: i % 7 == 0 and i % 3 == 0, None),
        # 901 matches, the newest ids first: scanning on to count them all would pass the budget
        ("lot", ListingFilters(seen_from=T0 + timedelta(minutes=300)), lambda i: i >= 300, True),
    ]
    for words, filters, pred, stops in cases:
        expected = _expected(pred, N)
        for offset in (0, 5):
            page = search_listings(session, words, filters, limit=5, offset=offset, order="newest", count_limit=1000)
            assert page.ids == expected[offset:offset + 5], (words, offset)
            if page.exact:
                assert page.total == len(expected)
            else:
                assert offset + 5 <= page.total < len(expected), (words, offset, page.total)
            if not postgresql:
                assert page.exact, (words, offset)
            elif stops is not None:
                assert page.exact == (not stops), (words, offset)
