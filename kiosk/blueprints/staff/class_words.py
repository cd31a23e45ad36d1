"""How the back office names a course's statuses, marks, grades and kinds of dates, in the page's
language. Templates reach them through `class_helpers` (a context processor of the staff blueprint)."""
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ...classes import GRADE_NAMES

STATUSES = {"confirmed": _l("Has a seat"), "waiting": _l("Waiting list"),
            "cancelled": _l("Cancelled"), "released": _l("Seat released")}
END_REASONS = {"guardian": _l("Cancelled by the guardian"), "staff": _l("Cancelled by staff"),
               "absences": _l("Seat released after absences")}
MARKS = {"present": _l("Present"), "absent": _l("Absent"), "excused": _l("Excused")}
# One character a column wide, for the attendance overview and its CSV.
MARK_SIGNS = {"present": "✓", "absent": "✗", "excused": "E"}
SCHEDULE_KINDS = {"term": _l("Term"), "holiday": _l("Holidays")}


def age_or_grade(registration) -> str:
    """What the desk wrote down: the child's age, or their school grade when only that is known."""
    if registration.child_age is not None:
        return ngettext("%(num)s year", "%(num)s years", registration.child_age)
    return str(GRADE_NAMES.get(registration.child_grade or "", ""))


def class_helpers() -> dict:
    def name_in(words):
        return lambda key: words.get(key, key or "")

    return {"class_status_name": name_in(STATUSES), "end_reason_name": name_in(END_REASONS),
            "mark_name": name_in(MARKS), "mark_sign": name_in(MARK_SIGNS),
            "schedule_kind_name": name_in(SCHEDULE_KINDS), "age_or_grade": age_or_grade}
