"""Figures worth keeping for a few seconds, in each worker's memory.

Some staff pages add up ten years of the hall (the dashboard, the half-year report): the same
answer for everyone who opens them within a few seconds, and too costly to work out again for
each of them. `remembered` keeps such an answer for a stated time, per worker process.

What may be kept here: plain data (numbers, lists, dicts of them; never ORM objects, which belong
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

_lock = threading.Lock()


def _store() -> "OrderedDict[Hashable, tuple[float, object]]":
    return current_app.extensions.setdefault("kiosk_cache", OrderedDict())


def remembered(key: Hashable, seconds: float, compute: Callable[[], T]) -> T:
    """`compute()`'s answer for `key`, worked out again once it is older than `seconds`.

    Two requests that miss at once both compute (no lock is held while computing: a slow
    computation must not stall the worker's other threads); the later answer is kept.
    """
    store = _store()
    now = time.monotonic()
    with _lock:
        found = store.get(key)
        if found is not None and found[0] > now:
            store.move_to_end(key)
            return found[1]  # type: ignore[return-value]
    value = compute()
    with _lock:
        store[key] = (time.monotonic() + seconds, value)
        store.move_to_end(key)
        while len(store) > MAX_ENTRIES:
            store.popitem(last=False)
    return value


def forget_all() -> None:
    """Empty the store (tests, and a settings change that alters what pages show)."""
    with _lock:
        _store().clear()
