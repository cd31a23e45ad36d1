"""Back-office pages: residents (being written)."""
