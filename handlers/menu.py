"""The account's custom menu: shortcuts to what can also be said in words."""

from __future__ import annotations

from typing import Any

# Keys of the CLICK buttons; handlers match them beside their words (router.event("click")).
HOW_TO_ASK, MY_REQUESTS = "HOW_TO_ASK", "MY_REQUESTS"
VOLUNTEER, MY_TASKS, MY_HOURS = "VOLUNTEER", "MY_TASKS", "MY_HOURS"
HELP = "HELP"

MENU: list[dict[str, Any]] = [
    {
        "name": "我要求助",
        "sub_button": [
            {"type": "click", "name": "怎么求助", "key": HOW_TO_ASK},
            {"type": "click", "name": "我的求助", "key": MY_REQUESTS},
        ],
    },
    {
        "name": "志愿服务",
        "sub_button": [
            {"type": "click", "name": "我想当志愿者", "key": VOLUNTEER},
            {"type": "click", "name": "我的任务", "key": MY_TASKS},
            {"type": "click", "name": "我的时长", "key": MY_HOURS},
        ],
    },
    {"type": "click", "name": "使用帮助", "key": HELP},
]
