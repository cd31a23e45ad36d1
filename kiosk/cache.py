"""Figures worth keeping for a few seconds, in each worker's memory.

Some staff pages add up ten years of the hall (the dashboard, the half-year report): the same
answer for everyone who opens them within a few seconds, and too costly to work out again for
each of them. `remembered` keeps such an answer for a stated time, per worker process.

Whole pages are kept in a store of their own (`recall`/`keep`, used by kiosk.web.kept_view), under
the data version they were drawn at (kiosk.freshness), so that they are never older than the
last committed change: their own store, so that many visitors' pages never push out the figures.

What may be kept by `remembered`: plain data (numbers, lists, dicts of them; never ORM objects, which belong
to one request's session) that is the same for everyone whose key is the same. Each caller says
in a comment why its staleness is fine for the people who read it. Nothing a resident has just
done may hide behind a cache: resident pages are made fast by their queries instead.

Per worker and per app, not shared: with two workers an answer is worked out at most twice per
period, and there is nothing to keep in step (Redis is optional in the hall). Each app has its
own store (the tests make many apps, each with its own database, in one process). A store is
small and bounded (MAX_ENTRIES); the oldest entries go first.
"""
import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

from flask import current_app

T = TypeVar("T")

MAX_ENTRIES = 64
# Pages are 5 to 40 KB of HTML: at most about 4 MB a worker (issue 9: 120 MB in all).
MAX_PAGES = 128

_lock = threading.Lock()


def _store(name: str = "kiosk_cache") -> "OrderedDict[Hashable, tuple[float, object]]":
    return current_app.extensions.setdefault(name, OrderedDict())


def _put(store, key: Hashable, seconds: float, value, limit: int) -> None:
    with _lock:
        store[key] = (time.monotonic() + seconds, value)
        store.move_to_end(key)
        while len(store) > limit:
            store.popitem(last=False)


_MISSING = object()


def _get(store, key: Hashable):
    with _lock:
        found = store.get(key)
        if found is not None and found[0] > time.monotonic():
            store.move_to_end(key)
            return found[1]
    return _MISSING


def remembered(key: Hashable, seconds: float, compute: Callable[[], T]) -> T:
    """`compute()`'s answer for `key`, worked out again once it is older than `seconds`.

    Two requests that miss at once both compute (no lock is held while computing: a slow
    computation must not stall the worker's other threads); the later answer is kept.
    """
    store = _store()
    found = _get(store, key)
    if found is not _MISSING:
        return found  # type: ignore[return-value]
    value = compute()
    _put(store, key, seconds, value, MAX_ENTRIES)
    return value


def recall(key: Hashable):
    """A page kept by `keep` under `key` and not yet too old, or None."""
    found = _get(_store("kiosk_pages"), key)
    return None if found is _MISSING else found


def keep(key: Hashable, seconds: float, page) -> None:
    _put(_store("kiosk_pages"), key, seconds, page, MAX_PAGES)


def forget_pages() -> None:
    """Empty the store of whole pages (the benchmark, to measure a page as drawn)."""
    with _lock:
        _store("kiosk_pages").clear()


def forget_all() -> None:
    """Empty the store (tests, and a settings change that alters what pages show)."""
    with _lock:
        _store().clear()
        _store("kiosk_pages").clear()
