"""Jinlin's error tree: raised in libraries, handled at the edges (CLI, webhook, handlers).

The root lives here, in the lowest package that raises; bot/core/errors.py adds the errors of
the configuration and of WeChat's API beneath it.
"""


class JinlinError(Exception):
    """Base of every error Jinlin raises on purpose."""


class InvalidInput(JinlinError):
    """Input from a person or a file that cannot be used as it is."""


class NotFound(JinlinError):
    """A looked-up record does not exist."""


class Conflict(JinlinError):
    """A state transition lost a race or is not allowed from the current state."""


class Forbidden(JinlinError):
    """The person asking may not do this."""
