from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC, stored the same way on SQLite and PostgreSQL; Flask-Babel shows it in hall time."""
    return datetime.now(UTC).replace(tzinfo=None)
