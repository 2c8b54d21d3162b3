"""The benchmarks' pure helpers: markdown tables, percentiles, which benchmarks a run selects."""

import pytest

from bench.run import DEFAULT, selected
from bench.tables import percentile, table


def test_table_is_github_markdown_with_one_line_per_row():
    assert table(["a", "b"], [[1, "x"], [2.5, "y"]]) == "| a | b |\n|---|---|\n| 1 | x |\n| 2.5 | y |\n"


def test_table_refuses_a_row_of_the_wrong_width():
    with pytest.raises(ValueError, match="row has 1 cells"):
        table(["a", "b"], [["only one"]])


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.5, 50), (0.99, 99), (1.0, 100), (0.01, 1), (0.505, 51)]
)
def test_percentile_is_nearest_rank(fraction, expected):
    values = list(range(100, 0, -1))  # unsorted on purpose
    assert percentile(values, fraction) == expected


def test_percentile_of_one_value_and_bad_input():
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)
    with pytest.raises(ValueError):
        percentile([1.0], 0)


def test_only_selects_benchmarks_by_name():
    assert selected(None) == list(DEFAULT) == selected("")
    assert selected("stack, imaging") == ["stack", "imaging"]
    with pytest.raises(SystemExit, match="unknown benchmark nope"):
        selected("imaging,nope")
