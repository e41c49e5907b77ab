"""The errors bot/ adds beneath storage's root: a wrong configuration, an error from WeChat's API."""

from __future__ import annotations

from storage.errors import JinlinError


class ConfigError(JinlinError):
    """The configuration file or an environment override is wrong."""


class WeChatAPIError(JinlinError):
    """WeChat's API answered with an error code."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
