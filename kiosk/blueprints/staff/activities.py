"""Back-office pages: activities (being written)."""
