"""The importer's reasons as a community worker reads them on the console."""

from __future__ import annotations

from bot.web.console.roster_words import chinese


def test_an_unknown_skill_is_quoted_and_the_known_ones_are_listed() -> None:
    # Regression: the console showed 不认识的技能 "修水管" (English quotes, no way forward).
    reason = chinese('unknown skill "修水管", "cooking"')
    assert reason.startswith("不认识的技能“修水管”、“cooking”")
    assert '"' not in reason and "助老" in reason and "跑腿" in reason


def test_an_unknown_availability_lists_the_words_that_work() -> None:
    reason = chinese('unknown availability "随时有空"')
    assert reason.startswith("不认识的服务时间“随时有空”")
    assert "周末" in reason and "weekend" not in reason
