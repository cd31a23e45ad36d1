"""How the back office names the wishes' kinds, categories, statuses, claims, sub-teams and the
concern categories, in the page's language. Templates reach them through `wish_helpers` (a context
processor of the staff blueprint). The public pages keep their own, resident-facing words."""
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from ... import codes

KINDS = {"wish": _l("Micro-wish"), "repair": _l("Home repair"), "help": _l("Other help")}
CATEGORIES = {"school": _l("School supplies"), "daily": _l("Daily needs"), "health": _l("Health"),
              "repair": _l("Repair"), "paperwork": _l("Paperwork"), "company": _l("Company for the elderly"),
              "other": _l("Other")}
PICTOGRAMS = {"school": "📚", "daily": "🧺", "health": "💊", "repair": "🔧", "paperwork": "📄",
              "company": "🫖", "other": "✳️"}
STATUSES = {"received": _l("Received"), "published": _l("On the wall"), "claimed": _l("Claimed"),
            "in_progress": _l("Being done"), "fulfilled": _l("Fulfilled"), "declined": _l("Declined"),
            "merged": _l("Merged"), "converted": _l("Passed to the concerns ledger")}
CLAIM_STATUSES = {"pending": _l("Waiting for confirmation"), "confirmed": _l("Confirmed"),
                  "released": _l("Released")}
SUB_TEAMS = {"elderly_health": _l("Elderly health"), "legal_help": _l("Legal help"),
             "mobility_care": _l("Mobility care"), "repair_skills": _l("Repair skills"), "general": _l("General")}
CONCERN_CATEGORIES = {"roads_drains": _l("Roads and drains"), "sanitation_bins": _l("Sanitation and bins"),
                      "public_toilets": _l("Public toilets"), "housing_repairs": _l("Housing repairs"),
                      "permits_paperwork": _l("Permits and paperwork"), "employment": _l("Employment"),
                      "benefits": _l("Benefits and stipends"), "safety": _l("Safety"),
                      "neighbours": _l("Neighbour disputes"), "other": _l("Other")}


def category_label(category: str) -> str:
    """"🔧 Repair": the pictogram first, for staff who scan a column."""
    return f"{PICTOGRAMS.get(category, '')} {CATEGORIES.get(category, category)}".strip()


def hours(minutes: int) -> str:
    """Minutes as hours with one decimal (90 -> "1.5"), the way volunteer service is reported."""
    return format_decimal(minutes / 60, format="#,##0.0")


def wish_helpers() -> dict:
    def name_in(words):
        return lambda key: words.get(key, key or "")

    return {"wish_kind_name": name_in(KINDS), "wish_category": category_label,
            "wish_pictogram": name_in(PICTOGRAMS),
            "wish_status_name": name_in(STATUSES), "claim_status_name": name_in(CLAIM_STATUSES),
            "sub_team_name": name_in(SUB_TEAMS), "concern_category_name": name_in(CONCERN_CATEGORIES),
            "wish_code": codes.formatted, "hours": hours}
