"""What the page says about a persona's 48-hour window and quota, by the stand-in's own rules,
and the errors a developer can make WeChat answer with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.simulator.standin import (
    AFTER_EVENT_QUOTA,
    AFTER_EVENT_SPAN,
    AFTER_MESSAGE_QUOTA,
    WINDOW,
    StandinState,
)

KIND_NAMES = {"message": "发消息", "click": "点菜单", "follow": "关注"}
# The APIs and errors of shared/spec/wechat.md that Jinlin must survive.
FAULT_APIS = {
    "/cgi-bin/message/custom/send": "客服消息",
    "/cgi-bin/message/template/send": "模板消息",
    "/cgi-bin/message/mass/send": "群发（按 OpenID）",
    "/cgi-bin/message/mass/sendall": "群发（按标签）",
    "/cgi-bin/stable_token": "获取 access_token",
}
FAULT_CODES = {
    40001: "access_token 无效",
    45015: "超出 48 小时窗口",
    45047: "客服消息超出配额",
    -1: "系统繁忙",
    45009: "调用超出频率或额度",
    43004: "用户未关注",
}


@dataclass(frozen=True)
class WindowView:
    following: bool
    last: str  # when and how the persona last interacted
    left: str  # how long the window stays open
    quota: str  # customer-service messages used of those allowed
    note: str  # what limits them, when it is not the plain 48 hours after a message
    reachable: bool  # a customer-service message reaches them now


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "刚刚"
    if minutes < 60:
        return f"{minutes} 分钟前"
    if minutes < 48 * 60:
        return f"{minutes // 60} 小时前"
    return f"{minutes // (24 * 60)} 天前"


def window_view(state: StandinState, openid: str, now: datetime) -> WindowView:
    """The persona's window as the stand-in will judge the next customer-service message."""
    following = state.is_following(openid)
    window = state.window_of(openid)
    if window is None:
        return WindowView(following, "从未互动", "未打开", "—", "", False)
    since = now - window.at
    left = WINDOW - since
    if window.kind == "message":
        quota, quota_open, note = AFTER_MESSAGE_QUOTA, True, ""
    else:
        quota, quota_open = AFTER_EVENT_QUOTA, since <= AFTER_EVENT_SPAN
        note = f"{KIND_NAMES[window.kind]}后 1 分钟内"
    if left <= timedelta(0):
        left_text = "已关闭"
    else:
        hours, rest = divmod(int(left.total_seconds()), 3600)
        left_text = f"剩 {hours}:{rest // 60:02d}"
    reachable = following and left > timedelta(0) and quota_open and window.sent < quota
    last = f"{KIND_NAMES.get(window.kind, window.kind)} · {_ago(since)}"
    quota_text = f"{window.sent}/{quota}"
    return WindowView(following, last, left_text, quota_text, note, reachable)


def fault_choices() -> tuple[dict[str, str], dict[int, str]]:
    """The APIs and error codes the page offers to inject."""
    return FAULT_APIS, FAULT_CODES
