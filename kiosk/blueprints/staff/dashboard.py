"""Back-office pages: dashboard (being written)."""
