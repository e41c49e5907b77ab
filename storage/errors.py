"""Jinlin's error tree: raised in libraries, handled at the edges (CLI, webhook, handlers)."""


class JinlinError(Exception):
    """Base of every error Jinlin raises on purpose."""


class ConfigError(JinlinError):
    """The configuration file or an environment override is wrong."""


class InvalidInput(JinlinError):
    """Input from a person or a file that cannot be used as it is."""


class NotFound(JinlinError):
    """A looked-up record does not exist."""


class Conflict(JinlinError):
    """A state transition lost a race or is not allowed from the current state."""


class Forbidden(JinlinError):
    """The person asking may not do this."""


class WeChatAPIError(JinlinError):
    """WeChat's API answered with an error code."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
