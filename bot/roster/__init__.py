"""The volunteer roster in and the requests out: CSV/JSON-lines formats and their commands."""
