"""How the back office names conditions, statuses and events, in the page's language."""
from flask_babel import lazy_gettext as _l

CONDITIONS = {"good": _l("Good"), "fair": _l("Fair"), "worn": _l("Worn")}
STATUSES = {"available": _l("Free"), "on_loan": _l("On loan"), "in_repair": _l("In repair"),
            "retired": _l("Retired")}
RETURN_CONDITIONS = {"fine": _l("Fine"), "needs_repair": _l("Needs repair")}
CHANNELS = {"kiosk": _l("Hall tablet"), "phone": _l("Phone"), "staff": _l("Staff")}
# A tool's history: loans and the ToolEvent kinds.
EVENTS = {
    "borrowed": _l("Borrowed"),
    "returned": _l("Returned"),
    "added": _l("Added to the shop"),
    "edited": _l("Details changed"),
    "to_repair": _l("Sent to repair"),
    "repaired": _l("Repaired"),
    "retired": _l("Retired"),
    "returned_broken": _l("Returned needing repair"),
}


def template_helpers() -> dict:
    def name_in(words):
        return lambda key: words.get(key, key or "")

    return {"condition_name": name_in(CONDITIONS), "status_name": name_in(STATUSES),
            "return_condition_name": name_in(RETURN_CONDITIONS), "channel_name": name_in(CHANNELS),
            "event_name": name_in(EVENTS)}
