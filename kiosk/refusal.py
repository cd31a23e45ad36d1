"""A domain rule said no. Views turn a Refusal into a kind message in the user's language."""


class Refusal(Exception):
    """Raised by domain actions with a translatable message; `field` names the form field it is about."""

    status = 409

    def __init__(self, reason: str, message, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self._message = message
        self.field = field

    @property
    def message(self) -> str:
        """The message in the page's language, as plain text.

        Translated when shown (a domain action may run outside a request), and never as a lazy
        string: Jinja takes those for safe HTML, and some messages carry what a person typed
        (a child's name), which must be escaped like any other text.
        """
        return str(self._message)
