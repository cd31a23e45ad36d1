"""Back-office pages: accounts (being written)."""
