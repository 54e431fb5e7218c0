"""cxa core: settings, event contracts, topic names and database access shared by every component."""
