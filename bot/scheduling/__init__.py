"""Follow-ups on a schedule: APScheduler with its jobs in the database."""
