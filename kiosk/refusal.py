"""A domain rule said no. Views turn a Refusal into a kind message in the user's language."""


class Refusal(Exception):
    """Raised by domain actions; `message` is a lazy translatable string, `field` names the form field."""

    status = 409

    def __init__(self, reason: str, message, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.field = field
