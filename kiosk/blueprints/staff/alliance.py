"""Back-office pages: alliance (being written)."""
