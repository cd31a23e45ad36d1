"""Borrowing and returning tools: every rule of the Red Wrench shop is decided here.

The tablet, the phone and the back office all call these functions; none of them
touches Loan or Tool.status directly. Each action is one write transaction, and the
database backs every rule it can hold itself (see kiosk.models.tools.Loan).
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from . import settings
from .database import write_transaction
from .extensions import db
from .models import Loan, Resident, Tool, ToolEvent, ToolKind
from .models.base import utcnow
from .refusal import Refusal

_SHOP_CODE = re.compile(r"^RW-?0*(\d{1,6})$")
_ANY_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
# A USB scanner reading a label types its whole content: the URL, not just the code.
_LABEL_URL = re.compile(r"/t/([^/?#\s]+)/?(?:[?#].*)?$")


def normalise_code(raw: str | None) -> str | None:
    """'rw-12', 'ＲＷ－００１２', 'http://hall/t/rw-0012' -> 'RW-0012'; None when it can't be a code."""
    s = unicodedata.normalize("NFKC", raw or "").strip()
    m = _LABEL_URL.search(s)
    if m:
        s = m.group(1)
    s = s.upper().replace(" ", "")
    m = _SHOP_CODE.match(s)
    if m:
        return f"RW-{int(m.group(1)):04d}"
    return s if _ANY_CODE.match(s) else None


def find_tool(raw_code: str | None) -> Tool | None:
    code = normalise_code(raw_code)
    if code is None:
        return None
    return db.session.scalar(select(Tool).where(Tool.code == code))


def hall_today() -> date:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def due_date(kind: ToolKind, today: date | None = None) -> date:
    return (today or hall_today()) + timedelta(days=kind.loan_days)


@dataclass(frozen=True)
class KindCount:
    kind: ToolKind
    free: int
    total: int


def catalogue() -> list[KindCount]:
    """Every kind with how many of its tools are free now ("2 of 3 free"); retired tools don't count."""
    free = func.sum(case((Tool.status == "available", 1), else_=0))
    total = func.sum(case((Tool.status != "retired", 1), else_=0))
    rows = db.session.execute(
        select(ToolKind, func.coalesce(free, 0), func.coalesce(total, 0))
        .outerjoin(Tool, Tool.kind_id == ToolKind.id)
        .group_by(ToolKind.id)
        .order_by(ToolKind.id)
    ).all()
    return [KindCount(kind, int(f), int(t)) for kind, f, t in rows if t]


def open_loan_for(tool: Tool) -> Loan | None:
    return db.session.scalar(select(Loan).where(Loan.tool_id == tool.id, Loan.returned_at.is_(None)))


def open_loans_of(resident_id: int) -> list[Loan]:
    return list(db.session.scalars(
        select(Loan).where(Loan.resident_id == resident_id, Loan.returned_at.is_(None))
        .order_by(Loan.due_on)))


# --- Refusals, in the residents' words -------------------------------------------------

def _just_taken():
    return Refusal("just_taken", _l("Sorry, someone has just borrowed this tool. "
                                    "Please choose another one."))


def _check_lendable(tool: Tool, resident_id: int) -> None:
    if tool.status == "available":
        return
    if tool.status == "in_repair":
        raise Refusal("in_repair", _l("This tool is being repaired and cannot be lent now."))
    if tool.status == "retired":
        raise Refusal("retired", _l("This tool is no longer lent out."))
    loan = open_loan_for(tool)
    if loan is not None and loan.resident_id == resident_id:
        raise Refusal("already_yours", _l("You already have this tool."))
    raise _just_taken()


# --- Actions ----------------------------------------------------------------------------

def borrow(tool_id: int, resident_id: int, token: str, channel: str) -> Loan:
    """Lend a tool to a resident. Same token twice (a double tap) returns the first loan.

    Refuses (Refusal) when the tool is not free, the resident has an overdue tool,
    or already holds MAX_OPEN_LOANS tools.
    """
    limit = settings.get("MAX_OPEN_LOANS")
    try:
        # The receipt is drawn from the loan, its tool and kind as committed.
        with write_transaction(expire_on_commit=False) as s:
            # On PostgreSQL these row locks make a second borrower of the same tool (or a
            # second borrow by the same resident) wait for the first to commit.
            tool = s.scalar(select(Tool).options(joinedload(Tool.kind, innerjoin=True))
                            .where(Tool.id == tool_id).with_for_update(of=Tool))
            s.scalar(select(Resident.id).where(Resident.id == resident_id).with_for_update())
            # Look for the token only once the locks are ours: a double tap that reached another
            # worker may have borrowed while this one waited (PostgreSQL), and its twin must
            # answer with that loan, not with "you already have this tool".
            done = s.scalar(select(Loan).where(Loan.borrow_token == token))
            if done is not None:
                return _same_request(done, tool_id, resident_id)
            if tool is None:
                raise Refusal("no_tool", _l("We could not find this tool."))
            _check_lendable(tool, resident_id)

            held = open_loans_of(resident_id)
            today = hall_today()
            late = [loan for loan in held if loan.is_overdue(today)]
            if late:
                raise Refusal("overdue", _l(
                    "Please bring back %(tool)s first. It was due on %(date)s. Thank you!",
                    tool=late[0].tool.label, date=format_date(late[0].due_on, "long")))
            if len(held) >= limit:
                raise Refusal("limit", _l(
                    "You already have %(n)s tools. Please bring one back before borrowing another.",
                    n=len(held)))
            slot = min(set(range(1, limit + 1)) - {loan.slot for loan in held})

            # Compare-and-set: only one transaction can move the tool from available to on_loan.
            moved = s.execute(update(Tool).where(Tool.id == tool_id, Tool.status == "available")
                              .values(status="on_loan")).rowcount
            if moved != 1:
                raise _just_taken()
            loan = Loan(tool_id=tool_id, resident_id=resident_id, slot=slot, channel=channel,
                        borrow_token=token, due_on=due_date(tool.kind, today))
            s.add(loan)
            s.flush()
            return loan
    except IntegrityError:
        # A constraint caught a race the checks above could not see (another worker committed
        # between our read and our write). Work out which, in a fresh transaction.
        done = db.session.scalar(select(Loan).where(Loan.borrow_token == token))
        if done is not None:
            return _same_request(done, tool_id, resident_id)
        tool = db.session.get(Tool, tool_id)
        if tool is not None and tool.status != "available":
            raise _just_taken() from None
        raise Refusal("limit", _l("You already have the most tools one person may borrow. "
                                  "Please bring one back first.")) from None


def _same_request(loan: Loan, tool_id: int, resident_id: int) -> Loan:
    if loan.tool_id != tool_id or loan.resident_id != resident_id:
        raise Refusal("stale_form", _l("This form was already used. Please start again."))
    return loan


def return_tool(tool_id: int, token: str, condition: str, note: str | None, channel: str,
                resident_id: int | None = None, staff_id: int | None = None) -> Loan:
    """Take a tool back. 'needs_repair' sends it to repair instead of the shelf.

    resident_id, when given, must be the borrower (a phone returning someone else's tool
    is refused); the hall tablet and staff return whatever is handed in.
    """
    if condition not in ("fine", "needs_repair"):
        raise Refusal("condition", _l("Please say whether the tool is fine or needs repair."),
                      field="condition")
    with write_transaction(expire_on_commit=False) as s:  # the receipt is drawn from them
        s.scalar(select(Tool).options(joinedload(Tool.kind, innerjoin=True))
                 .where(Tool.id == tool_id).with_for_update(of=Tool))
        # Behind the tool's lock, for the same reason as in borrow(): a double tap's twin that
        # waited for the lock finds the return just made, not "this tool is not out on loan".
        done = s.scalar(select(Loan).where(Loan.return_token == token))
        if done is not None:
            return done
        loan = s.scalar(select(Loan).where(Loan.tool_id == tool_id, Loan.returned_at.is_(None)))
        if loan is None:
            raise Refusal("not_on_loan", _l("This tool is not out on loan, so there is nothing to return."))
        if resident_id is not None and loan.resident_id != resident_id:
            raise Refusal("not_yours", _l("Someone else borrowed this tool. "
                                          "Please bring it to the hall to return it."))
        loan.returned_at = utcnow()
        loan.return_condition = condition
        loan.return_note = (note or "").strip()[:200] or None
        loan.return_token = token
        loan.returned_by_staff_id = staff_id
        tool = loan.tool
        if condition == "needs_repair":
            tool.status = "in_repair"
            s.add(ToolEvent(tool_id=tool.id, kind="returned_broken", note=loan.return_note,
                            staff_id=staff_id))
        else:
            tool.status = "available"
        s.flush()
        return loan


# --- Staff: the inventory ----------------------------------------------------------------

def add_tool(kind_id: int, staff_id: int, condition: str = "good", donated_by: str | None = None,
             acquired_on: date | None = None, note: str | None = None) -> Tool:
    """Add a physical tool; it gets the next free code (RW-0001, RW-0002, ...) and number in its kind."""
    with write_transaction() as s:
        codes = s.scalars(select(Tool.code).where(Tool.code.like("RW-%"))).all()
        next_code = max((int(c[3:]) for c in codes if c[3:].isdigit()), default=0) + 1
        number = (s.scalar(select(func.max(Tool.number)).where(Tool.kind_id == kind_id)) or 0) + 1
        tool = Tool(code=f"RW-{next_code:04d}", kind_id=kind_id, number=number, condition=condition,
                    donated_by=(donated_by or "").strip() or None, acquired_on=acquired_on or hall_today(),
                    note=note)
        s.add(tool)
        s.flush()
        s.add(ToolEvent(tool_id=tool.id, kind="added", staff_id=staff_id,
                        note=f"donated by {tool.donated_by}" if tool.donated_by else None))
        return tool


def _move_tool(tool_id: int, staff_id: int, note: str | None, to: str, event: str,
               allowed_from: tuple[str, ...]) -> Tool:
    """One staff change of a tool's state, recorded as a ToolEvent with who did it."""
    with write_transaction() as s:
        tool = s.scalar(select(Tool).where(Tool.id == tool_id).with_for_update())
        if tool is None:
            raise Refusal("no_tool", _l("We could not find this tool."))
        if tool.status not in allowed_from:
            raise {
                "on_loan": Refusal("on_loan", _l("This tool is out on loan. Check it in first.")),
                "retired": Refusal("retired", _l("This tool is no longer lent out.")),
                "in_repair": Refusal("in_repair", _l("This tool is already in repair.")),
            }.get(tool.status, Refusal("not_in_repair", _l("This tool is not in repair.")))
        tool.status = to
        s.add(ToolEvent(tool_id=tool.id, kind=event, note=note, staff_id=staff_id))
        return tool


def send_to_repair(tool_id: int, staff_id: int, note: str | None = None) -> Tool:
    return _move_tool(tool_id, staff_id, note, "in_repair", "to_repair", allowed_from=("available",))


def mark_repaired(tool_id: int, staff_id: int, note: str | None = None) -> Tool:
    return _move_tool(tool_id, staff_id, note, "available", "repaired", allowed_from=("in_repair",))


def retire(tool_id: int, staff_id: int, note: str | None = None) -> Tool:
    return _move_tool(tool_id, staff_id, note, "retired", "retired",
                      allowed_from=("available", "in_repair"))


# --- Staff: at a glance ----------------------------------------------------------------

@dataclass(frozen=True)
class ShopOverview:
    on_loan: int
    overdue: int
    in_repair: int
    available: int


def overview() -> ShopOverview:
    """The dashboard's tool figures, in two queries."""
    counts = dict(db.session.execute(select(Tool.status, func.count()).group_by(Tool.status)).all())
    overdue = db.session.scalar(select(func.count()).select_from(Loan).where(
        Loan.returned_at.is_(None), Loan.due_on < hall_today())) or 0
    return ShopOverview(on_loan=counts.get("on_loan", 0), overdue=overdue,
                        in_repair=counts.get("in_repair", 0), available=counts.get("available", 0))
