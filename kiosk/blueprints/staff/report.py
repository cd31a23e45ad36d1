"""Back-office pages: report (being written)."""
