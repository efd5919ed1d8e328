"""Pieces every server-rendered site uses: state, pagination, text blocks, reviews."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from urllib.parse import quote

from testbed import texts, vocab
from testbed.httpbase import Response, esc, html_response
from testbed.view import DayView, view


@dataclass
class State:
    """What every site app reads on each request: the seed and the day being served (server side)."""

    seed: int
    day: int
    crawl_delay: float | None = None  # market A's robots.txt asks for this Crawl-delay when set
    lock: threading.Lock = field(default_factory=threading.Lock)

    def view(self) -> DayView:
        return view(self.seed, self.day)


def text_block(text: str, tag: str = "div", cls: str = "") -> str:
    """A text field split into lines after sentences; normalising whitespace gives `text` back exactly."""
    parts = esc(text).split(". ")
    body = ".<br>\n".join(parts)
    return f'<{tag} class="{cls}">\n{body}\n</{tag}>'


def pager(base: str, page: int, pages: int, param: str = "page", sep: str = "?") -> str:
    if pages <= 1:
        return '<nav class="pagination"><span class="current">1</span></nav>'
    out = ['<nav class="pagination">']
    if page > 1:
        out.append(f'<a rel="prev" href="{esc(base)}{sep}{param}={page - 1}">&laquo; Prev</a>')
    for n in range(1, pages + 1):
        if n == page:
            out.append(f'<span class="current">{n}</span>')
        elif n <= 2 or n > pages - 2 or abs(n - page) <= 2:
            out.append(f'<a href="{esc(base)}{sep}{param}={n}">{n}</a>')
        elif out[-1] != "<span>&hellip;</span>":
            out.append("<span>&hellip;</span>")
    if page < pages:
        out.append(f'<a rel="next" class="next" href="{esc(base)}{sep}{param}={page + 1}">Next &raquo;</a>')
    out.append("</nav>")
    return "\n".join(out)


def page_slice(items: list, page: int, per: int) -> tuple[list, int]:
    pages = max(1, (len(items) + per - 1) // per)
    return items[(page - 1) * per: page * per], pages


def reviews(seed: int, key: str, day: int, lang: str, name: str, n: int) -> list[tuple[str, str, int]]:
    """(masked buyer, text, stars) lines for a listing or vendor; a new one appears most days."""
    out = []
    for i in range(n):
        rng = random.Random(f"{seed}/review/{key}/{day - i}")
        buyer = rng.choice("abcdefghijklmnopqrstuvwxyz") + "***" + rng.choice("abcdefghijklmnopqrstuvwxyz")
        out.append((buyer, texts.feedback_line(rng, lang, name), rng.choice([5, 5, 5, 4, 4, 3, 1])))
    return out


def external_links() -> str:
    """Links to hosts that are not loopback: a crawler must never fetch them."""
    links = " | ".join(f'<a href="{esc(h)}" rel="nofollow">{esc(h)}</a>' for h in vocab.EXTERNAL_HOSTS[:3])
    return f'<p class="mirrors">Mirrors &amp; status: {links} | <a href="javascript:alert(\'report\')">Report abuse</a></p>'


def not_found(what: str) -> Response:
    return html_response(f"<!DOCTYPE html><html><head><title>404</title></head><body><h1>404 Not Found</h1>"
                         f"<p>{esc(what)}</p><p><a href=\"/\">Home</a></p></body></html>", 404)


def down_page(name: str) -> Response:
    return html_response(f"<!DOCTYPE html><html><head><title>{esc(name)} - maintenance</title></head><body>"
                         f"<h1>{esc(name)} is down for maintenance</h1><p>We will be back soon. Your funds are safe."
                         f"</p></body></html>", 503, headers=[("Retry-After", "3600")])


def qpath(text: str) -> str:
    return quote(text, safe="")
