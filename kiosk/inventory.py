"""The tool shop's inventory as staff keep it: kinds of tool, editing tools, and the lists they search.

Lending decisions (borrow, return, repair, retire, adding a tool) stay in kiosk.lending;
this module holds what only the back office does, and the queries behind its lists,
so that a list page, its CSV export and the tests all ask the same question; and the
read-only queries behind what residents browse (the catalogue, a tool's page).
"""
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, case, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from .database import write_transaction
from .extensions import db
from .i18n import current_lang
from .lending import hall_today, normalise_code
from .models import Loan, Resident, StaffUser, Tool, ToolEvent, ToolKind
from .models.tools import CONDITIONS, TOOL_STATUSES
from .pagination import Page, page_within
from .refusal import Refusal

LOAN_DAYS_MIN, LOAN_DAYS_MAX = 1, 90  # also a check constraint on tool_kind
LEDGER_TABS = ("open", "overdue", "history")


# --- Kinds of tool ------------------------------------------------------------------------

def check_loan_days(days) -> int:
    if not isinstance(days, int) or not LOAN_DAYS_MIN <= days <= LOAN_DAYS_MAX:
        raise Refusal("loan_days", _l("The loan period is between %(min)s and %(max)s days.",
                                      min=LOAN_DAYS_MIN, max=LOAN_DAYS_MAX), field="loan_days")
    return days


def is_pictogram(text: str) -> bool:
    """One short picture (an emoji), not a word: a resident who reads neither script must see it."""
    text = (text or "").strip()
    return 0 < len(text) <= 8 and not any(
        unicodedata.category(ch)[0] in "LN" for ch in text)


def _kind_values(name_zh, name_bo, name_en, pictogram, loan_days) -> dict:
    names = {"name_zh": (name_zh or "").strip(), "name_bo": (name_bo or "").strip(),
             "name_en": (name_en or "").strip()}
    for field, value in names.items():
        if not value:
            raise Refusal("name_missing", _l("Please write the name in all three languages."),
                          field=field)
    if not is_pictogram(pictogram):
        raise Refusal("pictogram", _l("Please use one emoji, like 🔨."), field="pictogram")
    return {**names, "pictogram": pictogram.strip(), "loan_days": check_loan_days(loan_days)}


def add_kind(name_zh: str, name_bo: str, name_en: str, pictogram: str = "🔧",
             loan_days: int = 7) -> ToolKind:
    values = _kind_values(name_zh, name_bo, name_en, pictogram, loan_days)
    with write_transaction() as s:
        kind = ToolKind(**values)
        s.add(kind)
        s.flush()
        return kind


def edit_kind(kind_id: int, name_zh: str, name_bo: str, name_en: str, pictogram: str,
              loan_days: int) -> ToolKind:
    """Change a kind. A new loan period applies to loans made from now on, not to open ones."""
    values = _kind_values(name_zh, name_bo, name_en, pictogram, loan_days)
    with write_transaction() as s:
        kind = s.get(ToolKind, kind_id)
        if kind is None:
            raise Refusal("no_kind", _l("We could not find this kind of tool."))
        for key, value in values.items():
            setattr(kind, key, value)
        return kind


# --- What residents see: the catalogue and a tool's page -----------------------------------
# Read on every tap at the tablet (the catalogue also refreshes itself there every few seconds):
# a fixed number of indexed queries, whatever the size of the shop. The statements are composed
# once, with parameters: composing one costs more than SQLite takes to run it.

_LENDABLE = select(Tool.id).where(Tool.kind_id == ToolKind.id, Tool.status != "retired").exists()


def _tools_of_kind(*where):
    return select(func.count()).where(Tool.kind_id == ToolKind.id, *where).scalar_subquery()


# ToolKind.name in SQL: the name in the page's language, falling back to Chinese.
_KIND_NAME = func.coalesce(
    func.nullif(case({"bo": ToolKind.name_bo, "en": ToolKind.name_en}, value=bindparam("lang"),
                     else_=ToolKind.name_zh), ""),
    ToolKind.name_zh)
_CATALOGUE_TOTAL = select(func.count()).select_from(ToolKind).where(_LENDABLE)
_CATALOGUE_PAGE = (
    select(ToolKind.id, ToolKind.pictogram, _KIND_NAME.label("name"),
           _tools_of_kind(Tool.status == "available").label("free"),
           _tools_of_kind(Tool.status != "retired").label("total"))
    .where(_LENDABLE).order_by(ToolKind.id).limit(bindparam("limit")).offset(bindparam("offset")))


def catalogue_page(number, per_page: int) -> Page:
    """One page of the kinds residents can borrow, in the staff's order: rows of id, pictogram,
    name (in the page's language), free and total ("2 of 3 free"). Retired tools don't count,
    and a kind with none but retired ones is left out.

    Tools are counted for the page's kinds only, on the (kind_id, status) index. Plain rows
    through the session's connection, not ToolKind objects: a card shows five values.
    """
    connection = db.session.connection()
    total = connection.scalar(_CATALOGUE_TOTAL)
    number = page_within(number, total, per_page)
    rows = connection.execute(_CATALOGUE_PAGE, {
        "lang": current_lang(), "limit": per_page, "offset": (number - 1) * per_page}).all()
    return Page(items=rows, number=number, per_page=per_page, total=total)


_TOOL_WITH_OPEN_LOAN = (
    select(Tool, Loan).join(Tool.kind).options(contains_eager(Tool.kind))
    .outerjoin(Loan, (Loan.tool_id == Tool.id) & Loan.returned_at.is_(None))
    .where(Tool.code == bindparam("code")))


def tool_with_open_loan(raw_code: str | None) -> tuple[Tool, Loan | None] | None:
    """A tool's page in one query: the tool by its label's code, with its kind and its open
    loan (None when it is not lent out); None when no tool has this code."""
    code = normalise_code(raw_code)
    if code is None:
        return None
    found = db.session.execute(_TOOL_WITH_OPEN_LOAN, {"code": code}).first()
    return None if found is None else tuple(found)


# --- Tools ---------------------------------------------------------------------------------

def edit_tool(tool_id: int, staff_id: int, condition: str, note: str | None,
              donated_by: str | None) -> Tool:
    """Change what staff know about a tool; the change is recorded with who made it.

    Status is not edited here: it moves only through lending (loans, repair, retirement).
    """
    if condition not in CONDITIONS:
        raise Refusal("condition", _l("Please choose the condition."), field="condition")
    note = (note or "").strip()[:200] or None
    donated_by = (donated_by or "").strip()[:80] or None
    with write_transaction() as s:
        tool = s.get(Tool, tool_id)
        if tool is None:
            raise Refusal("no_tool", _l("We could not find this tool."))
        changes = [f"{name}: {getattr(tool, name) or '–'} → {value or '–'}"
                   for name, value in (("condition", condition), ("donated_by", donated_by),
                                       ("note", note))
                   if getattr(tool, name) != value]
        if changes:
            tool.condition, tool.note, tool.donated_by = condition, note, donated_by
            s.add(ToolEvent(tool_id=tool.id, kind="edited", staff_id=staff_id,
                            note="; ".join(changes)[:200]))
        return tool


def tools_query(status: str | None = None, kind_id: int | None = None,
                code: str | None = None) -> Select:
    """Tools for the staff list, filtered; `code` finds 'rw-12' as well as part of a code."""
    stmt = select(Tool).options(joinedload(Tool.kind)).order_by(Tool.code)
    if status in TOOL_STATUSES:
        stmt = stmt.where(Tool.status == status)
    if kind_id:
        stmt = stmt.where(Tool.kind_id == kind_id)
    code = unicodedata.normalize("NFKC", code or "").strip().upper()
    if code:
        exact = normalise_code(code)
        stmt = stmt.where(or_(Tool.code.contains(code, autoescape=True),
                              Tool.code == (exact or code)))
    return stmt


def donations_query() -> Select:
    """Tools a resident or neighbour gave, newest first."""
    return (select(Tool).options(joinedload(Tool.kind)).where(Tool.donated_by.is_not(None))
            .order_by(Tool.acquired_on.desc(), Tool.code.desc()))


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    what: str            # "borrowed", "returned", or a ToolEvent kind
    loan: Loan | None = None
    event: ToolEvent | None = None
    staff: StaffUser | None = None


def tool_history(tool_id: int) -> list[HistoryEntry]:
    """Everything that happened to a tool, newest first: loans, returns, repairs, edits."""
    entries: list[HistoryEntry] = []
    loans = db.session.scalars(select(Loan).options(joinedload(Loan.resident))
                               .where(Loan.tool_id == tool_id))
    for loan in loans:
        entries.append(HistoryEntry(loan.borrowed_at, "borrowed", loan=loan))
        if loan.returned_at is not None:
            staff = db.session.get(StaffUser, loan.returned_by_staff_id) \
                if loan.returned_by_staff_id else None
            entries.append(HistoryEntry(loan.returned_at, "returned", loan=loan, staff=staff))
    events = db.session.scalars(select(ToolEvent).options(joinedload(ToolEvent.staff))
                                .where(ToolEvent.tool_id == tool_id))
    for event in events:
        entries.append(HistoryEntry(event.at, event.kind, event=event, staff=event.staff))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


# --- The loans ledger ----------------------------------------------------------------------

def ledger_query(tab: str, search: str | None = None, today: date | None = None) -> Select:
    """Loans for the ledger: open (due soonest first), overdue (latest first), or all history.

    `search` matches the resident's name, their mobile number (any part of it) or a tool code.
    """
    today = today or hall_today()
    stmt = select(Loan).options(joinedload(Loan.resident), joinedload(Loan.tool).joinedload(Tool.kind))
    if tab == "overdue":
        stmt = stmt.where(Loan.returned_at.is_(None), Loan.due_on < today) \
            .order_by(Loan.due_on, Loan.id)
    elif tab == "history":
        stmt = stmt.order_by(Loan.borrowed_at.desc(), Loan.id.desc())
    else:
        stmt = stmt.where(Loan.returned_at.is_(None)).order_by(Loan.due_on, Loan.id)
    words = unicodedata.normalize("NFKC", search or "").strip()
    if words:
        digits = "".join(ch for ch in words if ch.isdigit())
        matches = [Resident.name.icontains(words, autoescape=True),
                   Tool.code.contains(words.upper(), autoescape=True)]
        if len(digits) >= 3 and len(digits) == len(words.replace(" ", "").replace("-", "")):
            matches.append(Resident.mobile.contains(digits, autoescape=True))
        if (code := normalise_code(words)) is not None:
            matches.append(Tool.code == code)
        # Joined for a search only: without one, a tab (and its count) reads the loans alone,
        # instead of every resident and tool of ten years (PostgreSQL scanned them all).
        stmt = stmt.join(Loan.resident).join(Loan.tool).where(or_(*matches))
    return stmt


def days_late(loan: Loan, today: date | None = None) -> int:
    """Whole days past the due date (0 when not late); a returned loan counts until its return."""
    if loan.returned_at is not None:
        hall_zone = ZoneInfo(current_app.config["TIMEZONE"])
        end = loan.returned_at.replace(tzinfo=UTC).astimezone(hall_zone).date()
    else:
        end = today or hall_today()
    return max(0, (end - loan.due_on).days)
