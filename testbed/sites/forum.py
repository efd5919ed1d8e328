"""The forum ("Undergrowth Forum"): boards, paginated threads, posts with author, time, quotes, signature.

URLs: / (board index), /board/<slug>?page=N (20 threads per page, newest activity first),
/thread/<id>?page=N (10 posts per page), /user/<handle>.
"""

from __future__ import annotations

import re

from testbed.httpbase import Request, Response, esc, html_response
from testbed.sites.common import State, external_links, not_found, page_slice, pager, qpath
from testbed.view import THREAD_PAGE
from testbed.world import SITE_NAMES

NAME = SITE_NAMES["forum"]
THREADS_PER_PAGE = 20
URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> str:
    """Escape a post and turn bare URLs into links (text content stays identical)."""
    out, last = [], 0
    for m in URL.finditer(text):
        out.append(esc(text[last:m.start()]))
        out.append(f'<a href="{esc(m.group(0))}" rel="nofollow">{esc(m.group(0))}</a>')
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)


def shown_time(iso: str) -> str:
    from datetime import datetime

    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:00Z").strftime("%a %d %b %Y, %H:%M")


class Forum:
    site_id = "forum"

    def __init__(self, state: State) -> None:
        self.state = state

    def handle(self, req: Request) -> Response:
        v = self.state.view()
        p = req.path
        if p == "/":
            return self.index(v)
        if p.startswith("/board/"):
            return self.board(v, p[len("/board/"):], req.int_arg("page"))
        if p.startswith("/thread/"):
            try:
                tid = int(p[len("/thread/"):])
            except ValueError:
                return not_found("bad thread id")
            return self.thread(v, tid, req.int_arg("page"))
        if p.startswith("/user/"):
            return self.user(v, p[len("/user/"):])
        return not_found(p)

    def page(self, v, title: str, body: str) -> Response:
        return html_response(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)} - {NAME}</title></head>
<body><header><a href="/" class="forum-name">{NAME}</a> &middot; <span class="today">{v.date.isoformat()}</span></header>
<main>
{body}
</main>
<footer>{external_links()}</footer></body></html>""")

    def index(self, v) -> Response:
        rows = []
        for slug, name, lang, _k in v.world.forum.boards:
            ts = [t for t in v.threads if t["board"] == slug]
            posts = sum(t["posts"] for t in ts)
            rows.append(f'<tr class="board"><td><a href="/board/{slug}">{esc(name)}</a> <small>[{lang}]</small></td>'
                        f"<td>{len(ts)}</td><td>{posts}</td></tr>")
        body = ('<h1>Boards</h1><table class="boards"><tr><th>Board</th><th>Threads</th><th>Posts</th></tr>'
                + "".join(rows) + "</table>")
        return self.page(v, "Index", body)

    def board(self, v, slug: str, page: int) -> Response:
        board = next((b for b in v.world.forum.boards if b[0] == slug), None)
        if board is None:
            return not_found("no such board")
        ts = sorted((t for t in v.threads if t["board"] == slug), key=lambda t: (t["last_post_at"], t["thread_id"]),
                    reverse=True)
        chunk, pages = page_slice(ts, page, THREADS_PER_PAGE)
        rows = "".join(
            f'<tr class="thread"><td><a class="thread-title" href="{t["url"]}">{esc(t["title"])}</a>'
            f' <small>by <a href="/user/{qpath(t["author"])}">{esc(t["author"])}</a></small>'
            + ("".join(f' <a class="page-link" href="{t["url"]}?page={n}">{n}</a>' for n in range(2, t["pages"] + 1))
               if t["pages"] > 1 else "")
            + f'</td><td class="replies">{t["posts"] - 1}</td><td><time datetime="{t["last_post_at"]}">'
            f'{shown_time(t["last_post_at"])}</time></td></tr>' for t in chunk)
        body = (f'<nav class="crumbs"><a href="/">Index</a> &raquo; {esc(board[1])}</nav><h1>{esc(board[1])}</h1>'
                f'<table class="threads"><tr><th>Topic</th><th>Replies</th><th>Last post</th></tr>{rows}</table>'
                f"{pager(f'/board/{slug}', page, pages)}")
        return self.page(v, board[1], body)

    def thread(self, v, tid: int, page: int) -> Response:
        t = next((x for x in v.threads if x["thread_id"] == tid), None)
        if t is None:
            return not_found("no such thread")
        posts, pages = page_slice(v.posts[tid], page, THREAD_PAGE)
        if not posts:
            return not_found("no such page")
        board = next(b for b in v.world.forum.boards if b[0] == t["board"])
        arts = []
        for p in posts:
            quotes = "".join(
                f'<blockquote class="quote" data-post="{q["post_id"]}"><cite>{esc(q["author"])} wrote:</cite>\n'
                f'<div class="quote-text">{linkify(q["text"])}</div></blockquote>\n' for q in p["quotes"])
            sig = f'\n<div class="signature">{linkify(p["signature"])}</div>' if p["signature"] else ""
            arts.append(
                f'<article class="post" id="p{p["post_id"]}" lang="{p["lang"]}">\n'
                f'<div class="post-author"><a href="/user/{qpath(p["author"])}">{esc(p["author"])}</a></div>\n'
                f'<time datetime="{p["posted_at"]}">{shown_time(p["posted_at"])}</time>\n'
                f'<div class="post-body">\n{quotes}<div class="post-text">{linkify(p["text"])}</div>\n</div>{sig}\n'
                f"</article>")
        body = (f'<nav class="crumbs"><a href="/">Index</a> &raquo; <a href="/board/{t["board"]}">{esc(board[1])}</a>'
                f'</nav><h1 class="thread-title">{esc(t["title"])}</h1>\n' + "\n".join(arts)
                + pager(f"/thread/{tid}", page, pages))
        return self.page(v, t["title"], body)

    def user(self, v, handle: str) -> Response:
        u = v.forum_users.get(handle)
        if u is None:
            return not_found("no such user")
        sig = f'<div class="signature">{linkify(u["signature"])}</div>' if u["signature"] else ""
        market = f'<p class="market">{esc(u["market"])}</p>' if u["market"] else ""
        body = (f'<h1 class="username">{esc(u["handle"])}</h1><p>Joined <span class="joined">{esc(u["member_since"])}'
                f'</span> &middot; <span class="post-count">{u["posts"]}</span> posts</p>{market}{sig}')
        return self.page(v, u["handle"], body)
