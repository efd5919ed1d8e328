"""Local testbed sites (markets, onion market, forum, hostile site) with an answer key.

    from testbed import answer_key, DEFAULT_SEED
    from testbed.world import build
    from testbed.server import Testbed

See docs/testbed.md.
"""

from __future__ import annotations

from testbed.world import DAYS, DEFAULT_SEED, START

__all__ = ["DAYS", "DEFAULT_SEED", "START", "answer_key"]


def answer_key(seed: int = DEFAULT_SEED, day: int = 1) -> dict:
    """Ground truth for one day; see testbed.answerkey."""
    from testbed.answerkey import answer_key as _key

    return _key(seed, day)
