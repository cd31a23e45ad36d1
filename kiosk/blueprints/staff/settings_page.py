"""Back-office pages: settings_page (being written)."""
