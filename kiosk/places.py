"""Seats and waiting lists, shared by the English class (Registration in a Course) and one-off
activities (SignUp in an Activity): which seat is free, the next waiting-list ticket, moving the
front of the waiting list up, counting seats and places.

The callers (kiosk.classes, kiosk.activities) hold the write transaction and have locked the
parent row (the course or the activity: SELECT ... FOR UPDATE, BEGIN IMMEDIATE on SQLite) before
calling anything here that decides a seat, so places of one parent are decided one after the other.
A Spec names the tables: the place model, its parent column, and the seat model with its own.
"""
from dataclasses import dataclass

from sqlalchemy import func, select

from .extensions import db
from .models.base import utcnow

LIVE_STATUSES = ("confirmed", "waiting")


@dataclass(frozen=True)
class Spec:
    """Where the places of one kind live: Registration by course_id in CourseSeat, SignUp by
    activity_id in ActivitySeat."""

    model: type  # the place: Registration, SignUp
    parent: str  # its parent's column: "course_id", "activity_id"
    seat_model: type  # CourseSeat, ActivitySeat
    seat_parent: str  # the seat model's parent column

    def parent_col(self):
        return getattr(self.model, self.parent)

    def seat_parent_col(self):
        return getattr(self.seat_model, self.seat_parent)


@dataclass(frozen=True)
class Seats:
    capacity: int | None  # None: no limit
    taken: int
    waiting: int

    @property
    def free(self) -> int | None:
        """Seats left; None when there is no limit."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.taken, 0)

    @property
    def unlimited(self) -> bool:
        return self.capacity is None


def free_seat(s, spec: Spec, parent_id: int, capacity: int | None) -> int | None:
    """The lowest free seat (1..capacity), or None when every seat is taken.

    Without a limit, a new seat is made: one more than the highest seat row so far, its seat row
    inserted first (the place's foreign key points at it).
    """
    model = spec.model
    if capacity is None:
        number = (s.scalar(select(func.max(spec.seat_model.number)).where(spec.seat_parent_col() == parent_id))
                  or 0) + 1
        s.add(spec.seat_model(**{spec.seat_parent: parent_id, "number": number}))
        s.flush()
        return number
    taken = set(s.scalars(select(model.seat).where(spec.parent_col() == parent_id, model.seat.is_not(None))))
    free = [n for n in range(1, capacity + 1) if n not in taken]
    return free[0] if free else None


def next_ticket(s, spec: Spec, parent_id: int) -> int:
    """Tickets only grow: a promoted or cancelled place's ticket is never handed out again."""
    return (s.scalar(select(func.max(spec.model.wait_ticket)).where(spec.parent_col() == parent_id)) or 0) + 1


def take_place(s, spec: Spec, place, parent_id: int, capacity: int | None) -> None:
    """A new place (not yet added): a seat while there is one, else the end of the waiting list."""
    seat = free_seat(s, spec, parent_id, capacity)
    if seat is not None:
        place.status, place.seat = "confirmed", seat
    else:
        place.status, place.wait_ticket = "waiting", next_ticket(s, spec, parent_id)


def promote(s, spec: Spec, parent_id: int, capacity: int | None) -> list:
    """Fill every free seat from the front of the waiting list, at once; the places moved up."""
    model = spec.model
    promoted = []
    for place in s.scalars(select(model).where(spec.parent_col() == parent_id, model.status == "waiting")
                           .order_by(model.wait_ticket)):
        seat = free_seat(s, spec, parent_id, capacity)
        if seat is None:
            break
        place.status, place.seat = "confirmed", seat
        place.promoted_at = utcnow()
        s.flush()
        promoted.append(place)
    return promoted


def counts(spec: Spec, parent_ids: list[int]) -> dict[tuple[int, str], int]:
    """(parent id, status) -> how many live places, for several parents in one query."""
    model = spec.model
    if not parent_ids:
        return {}
    return {(pid, status): n for pid, status, n in db.session.execute(
        select(spec.parent_col(), model.status, func.count()).where(
            spec.parent_col().in_(parent_ids), model.status.in_(LIVE_STATUSES))
        .group_by(spec.parent_col(), model.status)).all()}


def live_count_columns(spec: Spec, parent_id):
    """Places confirmed and places waiting of the parent whose id is `parent_id` (a column of the
    enclosing query), as two correlated subqueries: a public page reads them with its parent."""
    def live(status):
        return (select(func.count()).where(spec.parent_col() == parent_id, spec.model.status == status)
                .scalar_subquery())
    return live("confirmed"), live("waiting")


def seats_of(spec: Spec, parents: list) -> dict[int, Seats]:
    """Seats taken and people waiting of several parents (each with .id and .capacity), in one query."""
    found = counts(spec, [p.id for p in parents])
    return {p.id: Seats(p.capacity, found.get((p.id, "confirmed"), 0), found.get((p.id, "waiting"), 0))
            for p in parents}


def waiting_place(spec: Spec, place) -> int | None:
    """1 for the first on the waiting list; counted, so the places never have gaps."""
    if place.status != "waiting":
        return None
    model = spec.model
    return db.session.scalar(select(func.count()).select_from(model).where(
        spec.parent_col() == getattr(place, spec.parent), model.status == "waiting",
        model.wait_ticket <= place.wait_ticket))
