"""How the back office names the afternoon tea's answers and ways of signing in, and the concerns
ledger's statuses, sources and urgencies, in the page's language. The concern categories are
wish_words.CONCERN_CATEGORIES (already shown on the wish pages). Templates reach them through
`tea_helpers` (a context processor of the staff blueprint)."""
from flask_babel import lazy_gettext as _l

from ... import codes, ledger, settings, tea

STATUSES = {"open": _l("Open"), "answered": _l("Answered on the spot"), "referred": _l("Referred"),
            "in_progress": _l("In progress"), "resolved": _l("Resolved"), "informed": _l("Resident informed"),
            "closed_unresolved": _l("Closed unresolved")}
SOURCES = {"tea": _l("Afternoon tea"), "walk_in": _l("Walk-in"), "phone_call": _l("Phone call"),
           "wish": _l("From a wish"), "other": _l("Other")}
# What staff may choose when they write a concern down (a wish becomes one on the wish's page).
SOURCES_TO_CHOOSE = ("tea", "walk_in", "phone_call", "other")
URGENCIES = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High")}
ANSWERS = {"pending": _l("Not yet asked"), "accepted": _l("Accepted"), "declined": _l("Will not come"),
           "no_answer": _l("No answer")}
WAYS = {"qr": _l("Phone (QR)"), "tablet": _l("Tablet"), "walk_in": _l("Walk-in"), "staff": _l("Staff")}
SATISFIED = {"yes": _l("Yes, satisfied"), "no": _l("No, not satisfied"), "": _l("Not known")}
# The bodies a concern is usually referred to. Their Chinese names are proper names and stay as
# they are in every language; the gloss helps a reader who does not read Chinese.
BODIES = (("街道办事处", _l("sub-district office")), ("人社局", _l("human-resources bureau")),
          ("住建局", _l("housing bureau")), ("城管局", _l("urban management")), ("派出所", _l("police office")),
          ("共建单位", _l("partner unit")), ("社区居委会", _l("community committee")))


def receipt_link(code: str) -> str:
    """Where the resident follows their concern: BASE_URL + /q/<code> (a public contract)."""
    return f"{settings.base_url()}/q/{code}"


def satisfied_name(value: bool | None) -> str:
    return str(SATISFIED[{True: "yes", False: "no"}.get(value, "")])


def tea_helpers() -> dict:
    def name_in(words):
        return lambda key: words.get(key, key or "")

    return {"concern_status_name": name_in(STATUSES), "concern_source_name": name_in(SOURCES),
            "urgency_name": name_in(URGENCIES), "answer_name": name_in(ANSWERS),
            "sign_in_way_name": name_in(WAYS), "satisfied_name": satisfied_name,
            "concern_code": codes.formatted, "receipt_link": receipt_link, "is_overdue": ledger.is_overdue,
            "building_of": tea.building_of, "responsible_bodies": BODIES}
