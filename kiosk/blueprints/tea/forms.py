"""The tea's sign-in forms and the words residents read about a concern.

The forms check what a form can (a mobile number, a name, a tick); whether the resident is known,
invited, or in time is decided by kiosk.tea. The back office may import the words below.
"""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms.validators import ValidationError

from ...forms import IdentifyForm

# One picture and one word per category (keys: kiosk.models.tea.CONCERN_CATEGORIES), so a
# resident who reads neither language well still recognises theirs.
CONCERN_CATEGORY_WORDS = {
    "roads_drains": ("🚧", _l("roads and drains")),
    "sanitation_bins": ("🗑️", _l("sanitation and bins")),
    "public_toilets": ("🚻", _l("public toilets")),
    "housing_repairs": ("🏠", _l("housing repairs")),
    "permits_paperwork": ("📄", _l("permits and paperwork")),
    "employment": ("💼", _l("employment")),
    "benefits": ("💴", _l("benefits and stipends")),
    "safety": ("🛡️", _l("safety")),
    "neighbours": ("🤝", _l("neighbour disputes")),
    "other": ("✳️", _l("other")),
}

# Where a concern is (keys: kiosk.models.tea.CONCERN_STATUSES), in plain words: a picture, a
# title and a line of explanation. The status page adds the answer, the body, the reason.
CONCERN_STATUS_WORDS = {
    "open": ("📝", _l("Registered for follow-up"),
             _l("Your concern is registered. The staff will follow it up.")),
    "answered": ("💬", _l("Answered on the spot"), _l("Your concern was answered at once.")),
    "referred": ("📨", _l("Passed on"),
                 _l("The staff passed your concern to the office that is responsible for it.")),
    "in_progress": ("🛠️", _l("Being dealt with"), _l("Your concern is being dealt with.")),
    "resolved": ("✅", _l("Resolved"), _l("Your concern is resolved. The staff will tell you the outcome.")),
    "informed": ("📣", _l("Resolved, and you were told"),
                 _l("Your concern is resolved and the staff told you the outcome.")),
    "closed_unresolved": ("✋", _l("Closed without a solution"),
                          _l("The staff could not solve this concern and closed it.")),
}


class PhoneSignInForm(IdentifyForm):
    """On a phone at the table: mobile and name of a resident the hall knows."""

    building_unit = None
    consent = None


class WalkInForm(IdentifyForm):
    """Someone who was not invited signs in at the tablet; a newcomer is registered on the spot."""

    consent = BooleanField(
        _l("I agree that the hall keeps my name, mobile number and building to sign me in to the "
           "afternoon tea and to invite me to the next ones."))

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(_l("Please agree, so that we can sign you in."))
