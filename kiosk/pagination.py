"""Pagination for every back-office list: one query for the page, one for the total.

Used with the `pager` macro (templates/staff/_list.html), which keeps the list's
filters in the links to the other pages.
"""
from dataclasses import dataclass
from math import ceil

from sqlalchemy import Select, func, select

from .extensions import db


@dataclass(frozen=True)
class Page:
    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first item shown ("21–40 of 57")."""
        return 0 if self.total == 0 else (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)


def page_number(raw) -> int:
    """?page=... from a URL: anything that is not a positive number means the first page."""
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


def page_within(number, total: int, per_page: int) -> int:
    """The page asked for, where a page past the end shows the last page."""
    return min(page_number(number), max(1, ceil(total / per_page)))


def paginate(stmt: Select, number, per_page: int) -> Page:
    """Run `stmt` (ordered by the caller) for one page. A page past the end shows the last page."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    number = page_within(number, total, per_page)
    items = list(db.session.scalars(stmt.limit(per_page).offset((number - 1) * per_page)))
    return Page(items=items, number=number, per_page=per_page, total=total)


def paginate_list(items: list, number, per_page: int) -> Page:
    """One page of a list already in memory (the translation catalogue), paged like `paginate`."""
    number = page_within(number, len(items), per_page)
    start = (number - 1) * per_page
    return Page(items=items[start:start + per_page], number=number, per_page=per_page, total=len(items))
