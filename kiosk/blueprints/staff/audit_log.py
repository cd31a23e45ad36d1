"""Back-office pages: audit_log (being written)."""
