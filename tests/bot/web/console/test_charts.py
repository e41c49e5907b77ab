"""The reports' charts: an axis says what its grid lines are."""

from __future__ import annotations

import re

import pytest

from bot.web.console import charts


def axis(svg: str) -> list[str]:
    """The value labels of the y axis, bottom to top."""
    return re.findall(r'text-anchor="end">([^<]*)</text>', svg)


@pytest.mark.parametrize(
    ("top", "values", "labels"),
    [
        # Regression: the satisfaction chart's axis read 0 1 2 4 5 (its lines at quarters of 5).
        (5, [4.5], ["0", "1", "2", "3", "4", "5"]),
        (100, [40.0], ["0", "25", "50", "75", "100"]),
        (None, [7.0], ["0", "2", "4", "6", "8"]),
        (None, [0.0], ["0", "1", "2", "3", "4"]),
    ],
)
def test_each_grid_line_is_labelled_with_its_own_value(
    top: float | None, values: list[float], labels: list[str]
) -> None:
    assert axis(str(charts.bars(["12/7"], values, title="t", top=top))) == labels
