"""Back-office pages: worklog (being written)."""
