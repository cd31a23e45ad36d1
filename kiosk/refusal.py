"""A domain rule said no. Views turn a Refusal into a kind message in the user's language."""


class Refusal(Exception):
    """Raised by domain actions; `message` is a lazy translatable string, `field` names the form field."""

    status = 409

    def __init__(self, reason: str, message, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        # A plain str, translated now: a lazy string counts as safe HTML to Jinja, and messages
        # may carry what a person typed (a child's name), which must be escaped like any text.
        self.message = str(message)
        self.field = field
