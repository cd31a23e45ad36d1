"""Receipt codes: what a resident keeps to come back to a registration or a request.

Eight characters from an alphabet without look-alikes (no 0/O, 1/I/L), read off a screen or a
slip of paper, shown as ABCD-EFGH. A code opens a page about a person's child or need, so it is
random (31^8, about 8.5e11 codes) rather than counted, and look-ups of wrong codes are limited.
"""
import re
import secrets
import unicodedata

from sqlalchemy import select

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(raw: str | None) -> str | None:
    """'abcd-efgh', 'ABCD EFGH', full-width letters -> 'ABCDEFGH'; None when it cannot be one."""
    s = unicodedata.normalize("NFKC", raw or "").upper()
    s = re.sub(r"[\s\-]", "", s)
    if len(s) != LENGTH or any(ch not in ALPHABET for ch in s):
        return None
    return s


def formatted(code: str) -> str:
    """ABCDEFGH -> ABCD-EFGH, easier to read aloud and to copy."""
    return f"{code[:4]}-{code[4:]}"


def unused(session, column) -> str:
    """A new code that `column` (a unique column of codes) does not hold yet."""
    while True:
        code = new_code()
        if session.scalar(select(column).where(column == code)) is None:
            return code
