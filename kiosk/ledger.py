"""The concerns ledger (诉求台账): every problem a resident raises, followed to its end.

A concern is either answered on the spot (the answer is recorded; done) or registered for
follow-up with a proposed solution, the responsible body and a due date. It then moves
open -> referred -> in progress -> resolved -> resident informed, or is closed unresolved with
a reason. Every move and every follow-up note is a ConcernStep, so the history is complete and
says who did what when. The resident follows it with a receipt code at /q/<code>.
"""
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import codes
from .database import write_transaction
from .extensions import db
from .lending import hall_today
from .models.base import utcnow
from .models.tea import CONCERN_CATEGORIES, CONCERN_SOURCES, URGENCIES, Concern, ConcernStep
from .refusal import Refusal

# Where a concern may go from each status (staff move it one step, or close it unresolved).
NEXT = {
    "open": ("referred", "in_progress", "resolved", "closed_unresolved"),
    "referred": ("in_progress", "resolved", "closed_unresolved"),
    "in_progress": ("resolved", "closed_unresolved"),
    "resolved": ("informed",),
    "answered": (),
    "informed": (),
    "closed_unresolved": (),
}
FINISHED = ("answered", "informed", "closed_unresolved")


@dataclass
class Raised:
    """What staff write down when a resident raises a problem."""

    category: str
    description: str
    place: str = ""
    urgency: str = "normal"
    source: str = "tea"
    session_id: int | None = None
    resident_id: int | None = None
    from_wish_id: int | None = None
    # Answered on the spot: the answer. Otherwise the follow-up plan.
    answer: str = ""
    proposed_solution: str = ""
    responsible_body: str = ""
    due_on: date | None = None


def check(raised: Raised) -> None:
    if raised.category not in CONCERN_CATEGORIES:
        raise Refusal("category", _l("Please choose the kind of problem."), field="category")
    if not (raised.description or "").strip():
        raise Refusal("description", _l("Please write down what the resident said."), field="description")
    if raised.urgency not in URGENCIES:
        raise Refusal("urgency", _l("Please choose how urgent it is."), field="urgency")
    if raised.source not in CONCERN_SOURCES:
        raise Refusal("source", _l("Please choose where the concern came from."), field="source")
    if not raised.answer.strip() and raised.due_on is not None and raised.due_on < hall_today():
        raise Refusal("due_on", _l("The due date is in the past."), field="due_on")


def record(raised: Raised, staff_id: int | None) -> Concern:
    """A concern for the ledger. With an answer it is answered on the spot and done."""
    check(raised)
    with write_transaction() as s:
        return add_concern(s, raised, staff_id)


def add_concern(s, raised: Raised, staff_id: int | None) -> Concern:
    """The concern and the first step of its history, in the caller's write transaction (a wish
    becomes a concern in the same transaction that marks it converted)."""
    check(raised)
    answered = bool(raised.answer.strip())
    concern = Concern(
        code=codes.unused(s, Concern.code), category=raised.category,
        description=raised.description.strip(), place=raised.place.strip()[:80],
        urgency=raised.urgency, source=raised.source, session_id=raised.session_id,
        resident_id=raised.resident_id, from_wish_id=raised.from_wish_id, answer=raised.answer.strip(),
        proposed_solution=raised.proposed_solution.strip(),
        responsible_body=raised.responsible_body.strip()[:80], due_on=raised.due_on,
        status="answered" if answered else "open", created_by_id=staff_id,
        closed_at=utcnow() if answered else None)
    s.add(concern)
    s.flush()
    s.add(ConcernStep(concern_id=concern.id, staff_id=staff_id, status=concern.status,
                      note=concern.answer if answered else concern.proposed_solution))
    s.flush()
    return concern


def plan(concern_id: int, proposed_solution: str, responsible_body: str, due_on: date | None,
         staff_id: int) -> Concern:
    """Change the follow-up plan (solution, body, due date); the change is kept in the history."""
    if due_on is not None and due_on < hall_today():
        raise Refusal("due_on", _l("The due date is in the past."), field="due_on")
    with write_transaction() as s:
        concern = _locked(s, concern_id)
        _not_finished(concern)
        concern.proposed_solution = (proposed_solution or "").strip()
        concern.responsible_body = (responsible_body or "").strip()[:80]
        concern.due_on = due_on
        s.add(ConcernStep(concern_id=concern.id, staff_id=staff_id,
                          note=" · ".join(x for x in (concern.proposed_solution, concern.responsible_body,
                                                      due_on.isoformat() if due_on else "") if x)))
        return concern


def follow_up(concern_id: int, note: str, staff_id: int, status: str | None = None,
              satisfied: bool | None = None) -> Concern:
    """A follow-up entry, optionally moving the concern on. Closing unresolved needs the reason
    (the note); informing the resident records whether they were satisfied."""
    with write_transaction() as s:
        return add_follow_up(s, concern_id, note, staff_id, status, satisfied)


def add_follow_up(s, concern_id: int, note: str, staff_id: int | None, status: str | None = None,
                  satisfied: bool | None = None) -> Concern:
    """follow_up in the caller's write transaction (an agenda item of a joint meeting that
    resolves a concern writes the concern's step in the same transaction)."""
    note = (note or "").strip()
    concern = _locked(s, concern_id)
    if status:
        if status not in NEXT.get(concern.status, ()):
            raise Refusal("status", _l("This concern cannot move to that step from where it is."),
                          field="status")
        if status == "closed_unresolved" and not note:
            raise Refusal("reason", _l("Please write why it is closed without a solution."), field="note")
        concern.status = status
        if status == "closed_unresolved":
            concern.closed_reason = note[:200]
        if status in FINISHED:
            concern.closed_at = utcnow()
        if status == "informed":
            concern.satisfied = satisfied
    elif not note:
        raise Refusal("note", _l("Please write what happened."), field="note")
    s.add(ConcernStep(concern_id=concern.id, staff_id=staff_id, note=note, status=status or None))
    return concern


def _locked(s, concern_id: int) -> Concern:
    concern = s.scalar(select(Concern).where(Concern.id == concern_id).with_for_update())
    if concern is None:
        raise Refusal("no_concern", _l("We could not find this concern."))
    s.refresh(concern)
    return concern


def _not_finished(concern: Concern) -> None:
    if concern.status in FINISHED:
        raise Refusal("finished", _l("This concern is closed."))


def find(raw_code: str | None) -> Concern | None:
    code = codes.normalise(raw_code)
    if code is None:
        return None
    return db.session.scalar(select(Concern).where(Concern.code == code))


def is_overdue(concern: Concern, today: date | None = None) -> bool:
    """Past its due date and not yet resolved."""
    return (concern.due_on is not None and concern.status in ("open", "referred", "in_progress")
            and concern.due_on < (today or hall_today()))


def ledger_query(status: str | None = None, category: str | None = None, body: str | None = None,
                 overdue: bool = False, session_id: int | None = None, source: str | None = None):
    """The ledger's list with its filters, newest first (paginate it)."""
    stmt = select(Concern)
    if status:
        stmt = stmt.where(Concern.status == status)
    if category:
        stmt = stmt.where(Concern.category == category)
    if body:
        stmt = stmt.where(Concern.responsible_body.ilike(f"%{body.strip()}%"))
    if overdue:
        stmt = stmt.where(Concern.due_on < hall_today(), Concern.status.in_(("open", "referred", "in_progress")))
    if session_id:
        stmt = stmt.where(Concern.session_id == session_id)
    if source:
        stmt = stmt.where(Concern.source == source)
    return stmt.order_by(Concern.created_at.desc(), Concern.id.desc())
