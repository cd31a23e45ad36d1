"""Figures and pages worth keeping for a few seconds, in each worker's memory.

Some staff pages add up ten years of the hall (the dashboard, the half-year report): the same
answer for everyone who opens them within a few seconds, and too costly to work out again for
each of them. `remembered` keeps such an answer for a stated time, per worker process.

Whole pages are kept in a store of their own (`recall`/`keep`, used by kiosk.web.kept_view), under
the data version they were drawn at (kiosk.freshness): a page is never served once any change
has been committed after it was drawn, so nothing a resident has just done hides behind it. It is
kept no longer than anything `remembered` that it shows. Their own store, so that many visitors'
pages never push out the figures.

What may be kept by `remembered`: plain data (numbers, lists, dicts of them; never ORM objects, which belong
to one request's session) that is the same for everyone whose key is the same. Each caller says
in a comment why its staleness is fine for the people who read it. Nothing a resident has just
done may hide behind it: what residents read is kept only as a kept page.

Per worker and per app, not shared: with two workers an answer is worked out at most twice per
period, and there is nothing to keep in step (Redis is optional in the hall). Each app has its
own store (the tests make many apps, each with its own database, in one process). A store is
small and bounded (MAX_ENTRIES, MAX_PAGE_BYTES); the oldest entries go first.
"""
import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

from flask import current_app, g, has_request_context

T = TypeVar("T")

MAX_ENTRIES = 64
# Kept pages, at most this many bytes in all (their UTF-8 and their keys): issue 9 allows 120 MB a
# worker, and one peaks near 117 MB on PostgreSQL without them. A page is 5 to 40 KB: a hundred
# pages or more.
MAX_PAGE_BYTES = 2_000_000

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
    """(expiry, value) kept under `key` and not yet too old, or _MISSING."""
    with _lock:
        found = store.get(key)
        if found is not None and found[0] > time.monotonic():
            store.move_to_end(key)
            return found
    return _MISSING


def _part_of_this_page(expiry: float) -> None:
    """A page kept whole (kiosk.web.kept_view) is kept no longer than the parts it is made of:
    note the first of their expiries for this request."""
    if has_request_context():
        g.kept_until = min(g.get("kept_until", expiry), expiry)


def remembered(key: Hashable, seconds: float, compute: Callable[[], T]) -> T:
    """`compute()`'s answer for `key`, worked out again once it is older than `seconds`.

    Two requests that miss at once both compute (no lock is held while computing: a slow
    computation must not stall the worker's other threads); the later answer is kept.
    """
    store = _store()
    found = _get(store, key)
    if found is not _MISSING:
        _part_of_this_page(found[0])
        return found[1]  # type: ignore[return-value]
    expiry = time.monotonic() + seconds
    value = compute()
    _put(store, key, seconds, value, MAX_ENTRIES)
    _part_of_this_page(expiry)
    return value


class _Pages(OrderedDict):
    """Kept pages: key -> (expiry, (page, bytes)), the oldest first, and their size in all."""
    size = 0


def _pages() -> _Pages:
    store = current_app.extensions.get("kiosk_pages")
    return store if store is not None else current_app.extensions.setdefault("kiosk_pages", _Pages())


def recall(key: Hashable):
    """A page kept by `keep` under `key` and not yet too old, or None."""
    found = _get(_pages(), key)
    return None if found is _MISSING else found[1][0]


def keep(key: Hashable, seconds: float, page, size: int) -> None:
    """Keep `page` (taking `size` bytes) for `seconds`, and no longer than anything `remembered`
    that it shows; the oldest go first once the pages kept would take more than MAX_PAGE_BYTES."""
    expiry = min(time.monotonic() + seconds, g.pop("kept_until", float("inf")))
    store = _pages()
    with _lock:
        old = store.pop(key, None)
        if old is not None:
            store.size -= old[1][1]
        store[key] = (expiry, (page, size))
        store.size += size
        while store.size > MAX_PAGE_BYTES and store:
            _key, (_expiry, (_page, dropped)) = store.popitem(last=False)
            store.size -= dropped


def forget_pages() -> None:
    """Empty the store of whole pages (and the benchmark, to measure a page as drawn)."""
    with _lock:
        pages = _pages()
        pages.clear()
        pages.size = 0


def forget_all() -> None:
    """Empty the store (tests, and a settings change that alters what pages show)."""
    with _lock:
        _store().clear()
    forget_pages()
