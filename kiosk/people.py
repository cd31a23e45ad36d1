"""Residents as people: finding them, one resident's whole record, merging two records of one
person, and the personal-data requests of PIPL (export one resident's data, erase a resident),
with the retention rule that erases residents inactive for RETENTION_YEARS.

Erasing keeps the rows: a loan stays a loan, a registration a registration, so every figure the
hall reports (loans, distinct borrowers, sign-ups, wishes, tea attendance) is unchanged. What goes
is what names the person: their name, mobile, building/unit, their children's names, what they
wrote in their wishes, their photos, and every copy of their name or number elsewhere (the audit
log's before/after values, notes staff typed), found by a pass over every text column of every
table. Someone who comes back with the same mobile afterwards is a new resident.

Volunteers are separate records (kiosk.models.wishes.Volunteer), even when the same person is
both: erasing a resident leaves a volunteer with the same mobile alone.
"""
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (JSON, CheckConstraint, Select, String, Text, UniqueConstraint, bindparam, cast, exists, func,
                        or_, select, union, update)
from sqlalchemy.orm import joinedload

from . import photos, settings
from .audit import _plain
from .database import write_transaction
from .extensions import db
from .models import (Attendance, AuditEntry, Claim, Concern, ConcernStep, Fulfilment, Loan, Registration,
                     Resident, SignUp, TeaInvitation, TeaSession, TeaSignIn, Tool, Volunteer, Wish)
from .models.community import SIGN_UP_LIVE
from .models.base import utcnow
from .models.classes import LIVE_STATUSES
from .pagination import Page, page_within
from .refusal import Refusal
from .residents import InvalidMobile, normalise_mobile, normalise_name
from .wishes import OPEN_STATUSES as OPEN_WISH_STATUSES

# What replaces a removed personal value in text (the audit log writes secrets the same way).
MARK = "***"
# Tables whose rows point at a resident: merge moves them all, export shows them all.
RESIDENT_LINKS = {"loan": Loan.resident_id, "registration": Registration.guardian_id, "wish": Wish.resident_id,
                  "tea_invitation": TeaInvitation.resident_id, "tea_sign_in": TeaSignIn.resident_id,
                  "concern": Concern.resident_id, "sign_up": SignUp.resident_id}
# Other people's own names, numbers and addresses: a namesake of an erased resident keeps their
# name, a neighbour in the same flat their address.
IDENTITY_COLUMNS = {("resident", "name"), ("resident", "mobile"), ("resident", "building_unit"),
                    ("volunteer", "name"), ("volunteer", "mobile"), ("registration", "child_name"),
                    ("registration", "child_key"), ("wish", "building_unit"),
                    ("staff_user", "username"), ("staff_user", "display_name")}
# Fields of the resident's own rows whose audit values are removed whatever they held.
PERSONAL_FIELDS = {"name", "mobile", "building_unit", "child_name", "child_key", "description", "visit_times",
                   "thanks", "alias", "photo"}


# --- Finding residents ------------------------------------------------------------------------

_DIGITS_ONLY = re.compile(r"^[\d\s+\-]+$")


def search_query(q: str | None) -> Select:
    """Residents whose name, building/unit or mobile (whole, or its last 4 digits) matches `q`;
    "#12" finds resident 12. Newest first."""
    stmt = select(Resident)
    q = normalise_name(q)
    if q:
        needle = q.casefold()
        found = [func.lower(Resident.name, type_=Text).contains(needle, autoescape=True),
                 func.lower(Resident.building_unit, type_=Text).contains(needle, autoescape=True)]
        if re.fullmatch(r"#[0-9]{1,9}", q):
            found.append(Resident.id == int(q[1:]))
        if _DIGITS_ONLY.match(q):
            digits = re.sub(r"\D", "", q)
            try:
                found.append(Resident.mobile == normalise_mobile(q))
            except InvalidMobile:
                if len(digits) == 4:
                    found.append(Resident.mobile.endswith(digits))
                elif len(digits) >= 3:
                    found.append(Resident.mobile.contains(digits))
        stmt = stmt.where(or_(*found))
    return stmt.order_by(Resident.id.desc())


@dataclass
class Summary:
    """What a resident did with the hall, counted."""

    loans: int = 0
    open_loans: int = 0
    registrations: int = 0
    live_registrations: int = 0
    wishes: int = 0
    open_wishes: int = 0
    invitations: int = 0
    sign_ins: int = 0
    # Afternoon teas they were invited to or came to (their page has a row for each).
    teas: int = 0
    concerns: int = 0
    last_activity: datetime | None = None

    @property
    def has_open(self) -> bool:
        return bool(self.open_loans or self.live_registrations or self.open_wishes)


# Where a resident's activity is written down, besides their joining: (whose, when).
ACTIVITY = [
    (Loan.resident_id, Loan.borrowed_at), (Loan.resident_id, Loan.returned_at),
    (Registration.guardian_id, Registration.created_at),
    (Wish.resident_id, Wish.created_at),
    (TeaSignIn.resident_id, TeaSignIn.at),
    (Concern.resident_id, Concern.created_at),
    (SignUp.resident_id, SignUp.created_at),
]


def last_activity() -> dict[int, datetime]:
    """Every resident's id -> their latest activity: joining, a loan (borrowed or returned), a
    class registration, a wish, a tea sign-in, a concern they raised (for the retention rule;
    a Summary has it for a few residents)."""
    latest: dict[int, datetime] = {}
    for who, when in [(Resident.id, Resident.created_at), *ACTIVITY]:
        stmt = select(who, func.max(when)).where(who.is_not(None)).group_by(who)
        for resident_id, at in db.session.execute(stmt).all():
            if at is not None and (resident_id not in latest or at > latest[resident_id]):
                latest[resident_id] = at
    return latest


# What a Summary counts: field -> (the column naming the resident, which of their rows).
_COUNTED = {
    "loans": (Loan.resident_id,),
    "open_loans": (Loan.resident_id, Loan.returned_at.is_(None)),
    "registrations": (Registration.guardian_id,),
    "live_registrations": (Registration.guardian_id, Registration.status.in_(LIVE_STATUSES)),
    "wishes": (Wish.resident_id,),
    "open_wishes": (Wish.resident_id, Wish.status.in_(OPEN_WISH_STATUSES)),
    "invitations": (TeaInvitation.resident_id,),
    "sign_ins": (TeaSignIn.resident_id,),
    "concerns": (Concern.resident_id,),
}


def _theirs(who, *which):
    """How many rows of `who`'s table (and `which`) are the enclosing query's resident's."""
    return select(func.count()).where(who == Resident.id, *which).correlate(Resident).scalar_subquery()


@cache  # built once: SQL expressions do not change, and building these takes longer than running them
def _summary_columns() -> tuple:
    """A Summary of the resident of the enclosing query, as its columns: one subquery per figure,
    each reading only that resident's rows (by the index on the resident's column), so a summary
    costs the same in a hall of ten years as in a new one."""
    counts = [_theirs(who, *which).label(name) for name, (who, *which) in _COUNTED.items()]
    # The teas they were invited to, and those they came to without an invitation.
    uninvited = ~exists().where(TeaInvitation.session_id == TeaSignIn.session_id,
                                TeaInvitation.resident_id == TeaSignIn.resident_id)
    teas = (_theirs(TeaInvitation.resident_id) + _theirs(TeaSignIn.resident_id, uninvited)).label("teas")
    latest = [select(func.max(when)).where(who == Resident.id).correlate(Resident).scalar_subquery()
              .label(f"latest_{n}") for n, (who, when) in enumerate(ACTIVITY)]
    return (*counts, teas, Resident.created_at.label("joined"), *latest)


def _summary(row) -> Summary:
    """The Summary of a row selected with _summary_columns()."""
    figures = row._mapping
    moments = [figures["joined"], *(figures[f"latest_{n}"] for n in range(len(ACTIVITY)))]
    return Summary(**{name: figures[name] for name in (*_COUNTED, "teas")},
                   last_activity=max(at for at in moments if at is not None))


def summaries(ids: list[int]) -> dict[int, Summary]:
    """Resident id -> Summary, in one query (for a page of the list, or the CSV)."""
    found = {row.id: _summary(row) for row in db.session.execute(
        select(Resident.id, *_summary_columns()).where(Resident.id.in_(ids)))} if ids else {}
    return {i: found.get(i, Summary()) for i in ids}


# A resident's page shows this many of each kind of record, newest first; a pager per section
# reaches the older ones (after ten years a resident may have hundreds of loans).
SECTION_SIZE = 10
# The sections of their page as the address names them (?loans=2: the second page of loans),
# each with the Summary figure that counts it.
SECTIONS = {"loans": "loans", "classes": "registrations", "wishes": "wishes", "teas": "teas",
            "concerns": "concerns"}


@dataclass
class Profile:
    """One resident for their page: details, figures, and a page of each section."""

    resident: Resident
    summary: Summary
    loans: Page  # of Loan, their tool and its kind loaded
    classes: Page  # of Registration, its course loaded
    wishes: Page  # of Wish
    teas: Page  # of rows (TeaSession, their TeaInvitation or None, their TeaSignIn or None)
    concerns: Page  # of Concern


@cache  # built once, like the summary's columns; the resident and the page are bound when run
def _queries() -> dict[str, Select]:
    """The resident :resident with their Summary ("summary"), and a page of each section, newest
    first, from row :skip on."""
    who = bindparam("resident")

    def newest(stmt, *order):
        return stmt.order_by(*order).limit(SECTION_SIZE).offset(bindparam("skip"))

    # Their teas joined from their own invitations and sign-ins (the resident indexes), not
    # picked out of every tea the hall ever held.
    theirs = union(select(TeaInvitation.session_id).where(TeaInvitation.resident_id == who),
                   select(TeaSignIn.session_id).where(TeaSignIn.resident_id == who)).subquery()
    teas = (select(TeaSession, TeaInvitation, TeaSignIn)
            .join(theirs, theirs.c.session_id == TeaSession.id)
            .outerjoin(TeaInvitation, (TeaInvitation.session_id == TeaSession.id)
                       & (TeaInvitation.resident_id == who))
            .outerjoin(TeaSignIn, (TeaSignIn.session_id == TeaSession.id) & (TeaSignIn.resident_id == who)))
    return {
        "summary": select(Resident, *_summary_columns()).where(Resident.id == who),
        "loans": newest(select(Loan).where(Loan.resident_id == who)
                        .options(joinedload(Loan.tool).joinedload(Tool.kind)), Loan.borrowed_at.desc(), Loan.id.desc()),
        "classes": newest(select(Registration).where(Registration.guardian_id == who)
                          .options(joinedload(Registration.course)),
                          Registration.created_at.desc(), Registration.id.desc()),
        "wishes": newest(select(Wish).where(Wish.resident_id == who), Wish.created_at.desc(), Wish.id.desc()),
        "teas": newest(teas, TeaSession.day.desc(), TeaSession.id.desc()),
        "concerns": newest(select(Concern).where(Concern.resident_id == who),
                           Concern.created_at.desc(), Concern.id.desc()),
    }


def profile(resident_id: int, pages: Mapping[str, str] | None = None) -> Profile | None:
    """The resident with their figures, and the page of each section that `pages` asks for
    (section -> page number, from the address; the first page otherwise): a query for the
    resident and one per section they have something in, whatever they did in how many years."""
    pages = pages or {}
    queries = _queries()
    row = db.session.execute(queries["summary"], {"resident": resident_id}).first()
    if row is None:
        return None
    summary = _summary(row)
    shown = {}
    for section, figure in SECTIONS.items():
        total = getattr(summary, figure)
        number = page_within(pages.get(section), total, SECTION_SIZE)
        items = []
        if total:
            found = db.session.execute(queries[section], {"resident": resident_id, "skip": (number - 1) * SECTION_SIZE})
            items = found.all() if section == "teas" else found.scalars().all()
        shown[section] = Page(items=items, number=number, per_page=SECTION_SIZE, total=total)
    return Profile(resident=row[0], summary=summary, **shown)


# --- Merging two records of one person ----------------------------------------------------------

@dataclass(frozen=True)
class Merged:
    keep_id: int
    absorbed_id: int
    moved: dict  # table -> rows moved
    dropped: dict  # table -> duplicate rows removed (the same tea invitation or sign-in twice)


def _resident_refusal():
    return Refusal("no_resident", _l("We could not find this resident."))


def merge(keep_id: int, absorb_id: int) -> Merged:
    """Move everything of resident `absorb_id` to `keep_id`, then delete `absorb_id`.

    Open loans are renumbered into the kept resident's free slots (refused when together they
    would hold more than MAX_OPEN_LOANS); one invitation and one sign-in per tea are kept; a
    child with a live place in the same course on both records is refused (cancel one first).
    """
    if keep_id == absorb_id:
        raise Refusal("same", _l("Choose two different records."), field="other")
    limit = settings.get("MAX_OPEN_LOANS")
    with write_transaction() as s:
        # Both rows locked, in id order: a borrow by either waits (kiosk.lending locks them too).
        found = {r.id: r for r in s.scalars(select(Resident).where(Resident.id.in_((keep_id, absorb_id)))
                                            .order_by(Resident.id).with_for_update())}
        keep, absorb = found.get(keep_id), found.get(absorb_id)
        if keep is None:
            raise _resident_refusal()
        if absorb is None:
            raise Refusal("already_merged", _l("This record no longer exists: it was merged or removed."),
                          field="other")
        if keep.erased_at is not None or absorb.erased_at is not None:
            raise Refusal("erased", _l("An erased resident cannot be merged."), field="other")

        def of(model, who, resident_id, *where):
            return list(s.scalars(select(model).where(who == resident_id, *where).order_by(model.id)))

        # Loans: the open ones take numbered slots.
        keep_open = of(Loan, Loan.resident_id, keep_id, Loan.returned_at.is_(None))
        absorb_loans = of(Loan, Loan.resident_id, absorb_id)
        absorb_open = [loan for loan in absorb_loans if loan.returned_at is None]
        free = sorted(set(range(1, limit + 1)) - {loan.slot for loan in keep_open})
        if len(absorb_open) > len(free):
            raise Refusal("loans_limit", _l(
                "Together these records hold %(n)s tools, more than the %(limit)s one resident may hold. "
                "Check some tools in first.", n=len(keep_open) + len(absorb_open), limit=limit), field="other")

        # Registrations: one live place per child and course.
        live = {(r.course_id, r.child_key) for r in of(Registration, Registration.guardian_id, keep_id,
                                                     Registration.status.in_(LIVE_STATUSES))}
        absorb_regs = of(Registration, Registration.guardian_id, absorb_id)
        for reg in absorb_regs:
            if reg.status in LIVE_STATUSES and (reg.course_id, reg.child_key) in live:
                raise Refusal("same_child", _l(
                    "%(child)s has a place in %(course)s on both records. Cancel one of the two places first.",
                    child=reg.child_name, course=reg.course.title), field="other")
        # Activity sign-ups: one live place per resident and activity.
        live_sign_ups = {p.activity_id for p in of(SignUp, SignUp.resident_id, keep_id, SignUp.status.in_(SIGN_UP_LIVE))}
        absorb_sign_ups = of(SignUp, SignUp.resident_id, absorb_id)
        for place in absorb_sign_ups:
            if place.status in SIGN_UP_LIVE and place.activity_id in live_sign_ups:
                raise Refusal("same_sign_up", _l(
                    "Both records have a place in %(activity)s. Cancel one of the two places first.",
                    activity=place.activity.title), field="other")

        moved: dict[str, int] = {}
        dropped: dict[str, int] = {}
        # One invitation and one sign-in per tea: the duplicates go first (unique pairs).
        keep_invites = {i.session_id: i for i in of(TeaInvitation, TeaInvitation.resident_id, keep_id)}
        absorb_invites = of(TeaInvitation, TeaInvitation.resident_id, absorb_id)
        for inv in absorb_invites:
            twin = keep_invites.get(inv.session_id)
            if twin is not None:
                if twin.answer == "pending" and inv.answer != "pending":
                    twin.answer, twin.answered_at = inv.answer, inv.answered_at
                s.delete(inv)
                dropped["tea_invitation"] = dropped.get("tea_invitation", 0) + 1
        keep_signs = {t.session_id: t for t in of(TeaSignIn, TeaSignIn.resident_id, keep_id)}
        absorb_signs = of(TeaSignIn, TeaSignIn.resident_id, absorb_id)
        for sign in absorb_signs:
            twin = keep_signs.get(sign.session_id)
            if twin is not None:
                if sign.at < twin.at:
                    twin.at, twin.how = sign.at, sign.how
                s.delete(sign)
                dropped["tea_sign_in"] = dropped.get("tea_sign_in", 0) + 1
        s.flush()

        for loan, slot in zip(absorb_open, free, strict=False):
            loan.slot = slot
        for table, rows in (("loan", absorb_loans), ("registration", absorb_regs),
                            ("tea_invitation", [i for i in absorb_invites if i.session_id not in keep_invites]),
                            ("tea_sign_in", [t for t in absorb_signs if t.session_id not in keep_signs]),
                            ("wish", of(Wish, Wish.resident_id, absorb_id)),
                            ("concern", of(Concern, Concern.resident_id, absorb_id)),
                            ("sign_up", absorb_sign_ups)):
            attr = RESIDENT_LINKS[table].key
            for row in rows:
                setattr(row, attr, keep_id)
            if rows:
                moved[table] = len(rows)

        # The kept record takes what it lacks from the other one.
        consents = [c for c in (keep.consent_at, absorb.consent_at) if c is not None]
        keep.consent_at = min(consents) if consents else None
        keep.building_unit = keep.building_unit or absorb.building_unit
        keep.tea_opt_out = keep.tea_opt_out or absorb.tea_opt_out
        keep.created_at = min(keep.created_at, absorb.created_at)
        s.flush()
        s.delete(absorb)
        s.flush()  # the audit log records the deletion here
        # The absorbed record's history (its name and number among it) now belongs to the kept
        # record: erasing the person later finds all of it.
        s.execute(update(AuditEntry).where(AuditEntry.record_type == "resident",
                                           AuditEntry.record_id == str(absorb_id))
                  .values(record_id=str(keep_id)))
    return Merged(keep_id, absorb_id, moved, dropped)


# --- Export (a PIPL access request) -----------------------------------------------------------

def _row(obj, *, skip=()) -> dict:
    """A row as {field: value}, every column but one-use form tokens."""
    return {attr.key: _plain(getattr(obj, attr.key)) for attr in db.inspect(obj).mapper.column_attrs
            if "token" not in attr.key and attr.key not in skip}


def export(resident_id: int) -> dict | None:
    """Everything the hall keeps about one resident, table by table, with field names."""
    r = db.session.get(Resident, resident_id)
    if r is None:
        return None

    def everything(model, order, *loaded):
        """Every row of theirs, not a page of them as on their page: the export is complete."""
        who = RESIDENT_LINKS[model.__tablename__]
        return list(db.session.scalars(select(model).where(who == resident_id).order_by(order).options(*loaded)))

    loans = everything(Loan, Loan.borrowed_at.desc(), joinedload(Loan.tool).joinedload(Tool.kind))
    registrations = everything(Registration, Registration.created_at.desc(), joinedload(Registration.course))
    invitations = everything(TeaInvitation, TeaInvitation.invited_at.desc(), joinedload(TeaInvitation.session))
    sign_ins = everything(TeaSignIn, TeaSignIn.at.desc(), joinedload(TeaSignIn.session))
    sign_ups = everything(SignUp, SignUp.created_at.desc(), joinedload(SignUp.activity))
    data = {
        "exported_at": _plain(utcnow().replace(microsecond=0)),
        "hall": settings.get("HALL_NAME_ZH"),
        "resident": _row(r),
        "loans": [{**_row(loan), "tool_code": loan.tool.code, "tool_kind": loan.tool.kind.name_zh,
                   "tool_kind_en": loan.tool.kind.name_en} for loan in loans],
        "registrations": [],
        "wishes": [],
        "tea_invitations": [{**_row(i), "tea_day": _plain(i.session.day), "tea_theme": i.session.theme,
                             "tea_place": i.session.place} for i in invitations],
        "tea_sign_ins": [{**_row(t), "tea_day": _plain(t.session.day), "tea_theme": t.session.theme}
                         for t in sign_ins],
        "concerns": [],
        "sign_ups": [{**_row(place), "activity_code": place.activity.code, "activity_title": place.activity.title_zh,
                      "activity_title_en": place.activity.title_en, "activity_day": _plain(place.activity.day)}
                     for place in sign_ups],
    }
    for reg in registrations:
        marks = db.session.scalars(select(Attendance).where(Attendance.registration_id == reg.id)
                                   .order_by(Attendance.id))
        data["registrations"].append({
            **_row(reg), "course_code": reg.course.code, "course_title": reg.course.title_zh,
            "course_title_en": reg.course.title_en,
            "attendance": [{"day": _plain(m.session.day), "mark": m.mark} for m in marks]})
    for wish in everything(Wish, Wish.created_at.desc()):
        claims = db.session.scalars(select(Claim).where(Claim.wish_id == wish.id).order_by(Claim.id))
        fulfilment = db.session.scalar(select(Fulfilment).where(Fulfilment.wish_id == wish.id))
        data["wishes"].append({
            **_row(wish, skip=("device",)),
            # Who took it on is another person's data: the claims' status and dates only.
            "claims": [_row(c, skip=("volunteer_id", "partner_unit_id", "note", "decided_by_id")) for c in claims],
            "fulfilment": _row(fulfilment, skip=("volunteer_id", "recorded_by_id")) if fulfilment else None})
    for concern in everything(Concern, Concern.created_at.desc()):
        steps = db.session.scalars(select(ConcernStep).where(ConcernStep.concern_id == concern.id)
                                   .order_by(ConcernStep.at, ConcernStep.id))
        data["concerns"].append({**_row(concern), "steps": [_row(step) for step in steps]})
    data["changes_by_staff"] = [
        _row(e) for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.record_type == "resident", AuditEntry.record_id == str(resident_id)).order_by(AuditEntry.id))]
    if r.mobile:
        volunteer = db.session.scalar(select(Volunteer).where(Volunteer.mobile == r.mobile))
        if volunteer is not None:
            data["volunteer"] = _row(volunteer, skip=("key",))
    return data


def export_json(resident_id: int) -> str | None:
    data = export(resident_id)
    return None if data is None else json.dumps(data, ensure_ascii=False, indent=2)


# --- Erasing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Erased:
    resident_id: int
    already: bool  # it had been erased before (a double submit)
    redacted: int = 0  # text values elsewhere that named them


def _open_things(s, resident_id: int) -> list[str]:
    def any_(model, who, *where):
        return s.scalar(select(func.count()).select_from(model).where(who == resident_id, *where)) > 0

    found = []
    if any_(Loan, Loan.resident_id, Loan.returned_at.is_(None)):
        found.append("loan")
    if any_(Registration, Registration.guardian_id, Registration.status.in_(LIVE_STATUSES)):
        found.append("registration")
    if any_(SignUp, SignUp.resident_id, SignUp.status.in_(SIGN_UP_LIVE)):
        found.append("sign_up")
    if any_(Wish, Wish.resident_id, Wish.status.in_(OPEN_WISH_STATUSES)):
        found.append("wish")
    return found


def _number_forms(mobile: str | None) -> list[str]:
    """The mobile number in the ways people write it: removed wherever it appears."""
    if not mobile:
        return []
    return [mobile, f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"]


def _words(names, units) -> list[str]:
    """Names of 2+ characters and building/units of 4+ ("3-2-401"): removed from the resident's own
    records only, since a common name (扎西, 卓玛) is also a namesake's name and an ordinary word
    (扎西德勒). Longest first, so a longer form is removed whole."""
    terms = {n for n in map(normalise_name, names) if len(n) >= 2}
    terms |= {u for u in map(normalise_name, units) if len(u) >= 4}
    return sorted(terms, key=len, reverse=True)


def _scrub_text(text: str, terms: list[str]) -> str:
    for term in terms:
        text = re.sub(re.escape(term), MARK, text, flags=re.IGNORECASE)
    return text


def _scrub(value, terms: list[str]):
    """The value (text, or JSON made of dicts, lists and texts) with every term replaced."""
    if isinstance(value, str):
        return _scrub_text(value, terms)
    if isinstance(value, list):
        return [_scrub(v, terms) for v in value]
    if isinstance(value, dict):
        return {_scrub_text(k, terms) if isinstance(k, str) else k: _scrub(v, terms) for k, v in value.items()}
    return value


def _enum_columns(table) -> set[str]:
    """Columns held to a fixed list by a check constraint ("status IN (...)"): never free text."""
    names = set()
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            m = re.match(r"\s*(\w+) IN \(", str(constraint.sqltext))
            if m:
                names.add(m.group(1))
    return names


def text_columns(table):
    """The String, Text and JSON columns of a table that may hold free text."""
    enums = _enum_columns(table)
    for column in table.columns:
        if not isinstance(column.type, String | JSON):
            continue
        if column.name in enums or "token" in column.name or "password" in column.name:
            continue
        yield column


def _kept_as_is(table) -> set[str]:
    """Columns never rewritten: keys and unique values (a code, a unit's name), which a
    replacement could make collide, and other people's own names, numbers and addresses."""
    kept = {c.name for c in table.columns if c.primary_key or c.unique}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            kept |= {c.name for c in constraint.columns}
    return kept | {column for name, column in IDENTITY_COLUMNS if name == table.name}


def redact(s, numbers: list[str], words: list[str], own: dict[str, list[int]]) -> int:
    """Replace the mobile number's forms in every free-text column of every table, and the
    resident's names and address in the rows that are theirs (`own`: table -> ids) and in the audit
    log's entries about those rows. SQL LIKE finds the rows, on SQLite and PostgreSQL alike.
    Plain UPDATE statements: the audit log does not record the redaction (it would copy the names)."""
    own_records = {(table, str(row_id)) for table, ids in own.items() for row_id in ids}
    changed = 0
    for table in db.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        kept = _kept_as_is(table)
        about_them = table.name in own or table.name == "audit_entry"
        terms = sorted(set(numbers) | (set(words) if about_them else set()), key=len, reverse=True)
        if not terms:
            continue
        for column in text_columns(table):
            if column.name in kept:
                continue
            is_json = isinstance(column.type, JSON)
            searched = func.lower(cast(column, Text) if is_json else column, type_=Text)
            needles = {t.casefold() for t in terms}
            if is_json:  # JSON text keeps non-ASCII letters as \uXXXX escapes
                needles |= {json.dumps(t)[1:-1].casefold() for t in terms}
            extra = [table.c.record_type, table.c.record_id] if table.name == "audit_entry" else []
            stmt = select(*pk, *extra, column).where(or_(*(searched.contains(n, autoescape=True) for n in needles)))
            if table.name in own and len(pk) == 1 and not numbers:
                stmt = stmt.where(pk[0].in_(own[table.name]))
            for row in s.execute(stmt).all():
                key, value = row[:len(pk)], row[-1]
                if table.name == "audit_entry":
                    ours = (row[len(pk)], row[len(pk) + 1]) in own_records
                elif table.name in own and len(pk) == 1:
                    ours = key[0] in own[table.name]
                else:
                    ours = False
                new = _scrub(value, terms if ours else numbers)
                if new != value:
                    s.execute(update(table).where(*(c == v for c, v in zip(pk, key, strict=True)))
                              .values({column.name: new}))
                    changed += 1
    return changed


def _redact_own_audit(s, records: dict[str, list[int]]) -> None:
    """The audit log's before/after values of the resident's own personal fields, whatever they held
    (an old address, a child's name as first typed)."""
    for record_type, ids in records.items():
        if not ids:
            continue
        entries = s.execute(select(AuditEntry.id, AuditEntry.changes).where(
            AuditEntry.record_type == record_type, AuditEntry.record_id.in_([str(i) for i in ids]))).all()
        for entry_id, changes in entries:
            new = {k: ([MARK if v not in (None, "") else v for v in pair] if k in PERSONAL_FIELDS else pair)
                   for k, pair in (changes or {}).items()}
            if new != changes:
                s.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(changes=new))


def _own_rows(s, resident_id: int, registrations, wishes) -> dict[str, list[int]]:
    """The rows that are the resident's: theirs, their requests' claims and fulfilments, the
    concerns they raised or their requests became, and those concerns' history."""
    wish_ids = [w.id for w in wishes]

    def ids(column, *where):
        return list(s.scalars(select(column).where(*where)))

    concerns = ids(Concern.id, or_(Concern.resident_id == resident_id, Concern.from_wish_id.in_(wish_ids)))
    own = {"resident": [resident_id], "registration": [r.id for r in registrations], "wish": wish_ids,
           "claim": ids(Claim.id, Claim.wish_id.in_(wish_ids)),
           "fulfilment": ids(Fulfilment.id, Fulfilment.wish_id.in_(wish_ids)),
           "concern": concerns, "concern_step": ids(ConcernStep.id, ConcernStep.concern_id.in_(concerns))}
    for table, column in RESIDENT_LINKS.items():
        if table not in own and len(column.table.primary_key.columns) == 1:
            own[table] = ids(column.table.primary_key.columns[0], column == resident_id)
    return own


def erase(resident_id: int) -> Erased:
    """Remove a resident's personal data, keeping every row the hall's figures count.

    Refused while they have a tool on loan, a live class place or a request in progress (the
    hall still needs to reach them). Erasing an erased resident again changes nothing.
    """
    discarded: list[str] = []
    with write_transaction() as s:
        resident = s.scalar(select(Resident).where(Resident.id == resident_id).with_for_update())
        if resident is None:
            raise _resident_refusal()
        if resident.erased_at is not None:
            return Erased(resident_id, already=True)
        if _open_things(s, resident_id):
            raise Refusal("open", _l(
                "This resident still has something open: a tool on loan, a place in a class, or a request "
                "in progress. Finish or cancel it first, then erase."))

        registrations = list(s.scalars(select(Registration).where(Registration.guardian_id == resident_id)
                                       .order_by(Registration.id)))
        wishes = list(s.scalars(select(Wish).where(Wish.resident_id == resident_id)))
        numbers = _number_forms(resident.mobile)
        words = _words([resident.name, *(r.child_name for r in registrations)],
                       [resident.building_unit, *(w.building_unit for w in wishes)])
        own = _own_rows(s, resident_id, registrations, wishes)

        # A child keeps one pseudonymous key (erased~1, erased~2 ...): counts of distinct children stay.
        children: dict[str, str] = {}
        for reg in registrations:
            reg.child_key = children.setdefault(reg.child_key, f"erased~{len(children) + 1}")
            reg.child_name = MARK
        for wish in wishes:
            wish.description = MARK
            wish.building_unit = ""
            wish.visit_times = ""
            wish.thanks = MARK if wish.thanks else ""
            wish.alias = MARK if wish.alias else ""
            if wish.photo:
                discarded.append(wish.photo)
                wish.photo = None
            fulfilment = s.scalar(select(Fulfilment).where(Fulfilment.wish_id == wish.id))
            if fulfilment is not None and fulfilment.photo:  # a photo of their home
                discarded.append(fulfilment.photo)
                fulfilment.photo = None
        resident.name = ""
        resident.mobile = None
        resident.building_unit = None
        resident.consent_at = None  # nor invited to tea again
        resident.tea_opt_out = True
        resident.erased_at = utcnow()
        s.flush()  # the audit log records the erasure here; its copies of the values go next
        _redact_own_audit(s, {"resident": [resident_id], "registration": [r.id for r in registrations],
                              "wish": [w.id for w in wishes]})
        redacted = redact(s, numbers, words, own)
    s.expire_all()
    for name in discarded:  # only once the erasure is committed
        photos.discard(name)
    return Erased(resident_id, already=False, redacted=redacted)


# --- Retention ---------------------------------------------------------------------------------

def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def inactive(years: int, today: date) -> list[int]:
    """Residents not erased, with no activity since `years` before `today` and nothing open."""
    if years <= 0:
        return []
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    cutoff = datetime.combine(_years_before(today, years), time(), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    candidates = set(db.session.scalars(select(Resident.id).where(Resident.erased_at.is_(None))))
    busy = set(db.session.scalars(select(Loan.resident_id).where(Loan.returned_at.is_(None))))
    busy |= set(db.session.scalars(select(Registration.guardian_id).where(Registration.status.in_(LIVE_STATUSES))))
    busy |= set(db.session.scalars(select(Wish.resident_id).where(Wish.status.in_(OPEN_WISH_STATUSES))))
    busy |= set(db.session.scalars(select(SignUp.resident_id).where(SignUp.status.in_(SIGN_UP_LIVE))))
    latest = last_activity()
    return sorted(i for i in candidates - busy if latest.get(i) is not None and latest[i] < cutoff)


def anonymise_inactive(years: int, today: date, dry_run: bool = False) -> list[int]:
    """Erase the residents inactive for `years` (0: never); the ids erased (or, dry, to erase).

    Each resident in a transaction of their own; one who took something (a tool, a class place)
    since the list was made is left alone.
    """
    chosen = inactive(years, today)
    if dry_run:
        return chosen
    erased = []
    for resident_id in chosen:
        try:
            if not erase(resident_id).already:
                erased.append(resident_id)
        except Refusal:
            continue
    return erased


def retention_years() -> int:
    return int(settings.get("RETENTION_YEARS") or 0)
