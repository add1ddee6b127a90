"""SQLite storage of the sandbox: every SQL statement lives here, and no business rule."""
