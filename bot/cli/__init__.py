"""The `jinlin` command line."""
