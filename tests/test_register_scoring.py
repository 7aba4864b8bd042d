"""The risk matrix and the normalisation of register scales (pure functions)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InputError
from engine.register.scoring import (
    DEFAULT_MATRIX,
    MatrixSpec,
    default_matrix,
    from_percent,
    normalise_values,
    parse_scale_name,
    rescale,
)

LABELS_5 = list(DEFAULT_MATRIX.likelihood_labels)


@pytest.mark.parametrize("size", [3, 4, 5, 6])
def test_default_matrices_from_3_to_6_are_valid(size: int) -> None:
    spec = default_matrix(size)
    assert spec.problems() == []
    assert len(spec.likelihood_labels) == size
    assert spec.level(1) == "Low"
    assert spec.level(size * size) == spec.level_names[-1]


@pytest.mark.parametrize("size", [2, 7])
def test_sizes_outside_3_to_6_are_refused(size: int) -> None:
    with pytest.raises(InputError) as err:
        MatrixSpec.from_dict({"size": size})
    assert err.value.problems[0].field == "size"
    assert "3 to 6" in str(err.value)


def test_every_problem_of_a_matrix_is_reported() -> None:
    bad = replace(DEFAULT_MATRIX, likelihood_labels=("a", "b"), level_thresholds=(2, 8, 4, 30),
                  level_colours=("#fff", "red", "#000000", "#123456"), appetite=40)
    fields = [p.field for p in bad.problems()]
    assert fields.count("levels") >= 4  # starts at 2, not ascending, above 25, 'red' is no colour
    assert "likelihood_labels" in fields and "appetite" in fields


def test_levels_colours_and_appetite_on_the_default() -> None:
    m = DEFAULT_MATRIX
    assert [m.level(s) for s in (1, 3, 4, 7, 8, 14, 15, 25)] == [
        "Low", "Low", "Medium", "Medium", "High", "High", "Critical", "Critical"]
    assert m.colour(15) == "#c62828"
    assert m.within_appetite(6) is True and m.within_appetite(8) is False
    assert m.score(None, 3) is None and m.level(None) is None
    assert len(m.cells()) == 25


def test_matrix_file_form_round_trips() -> None:
    doc = {"size": 4, "likelihood_labels": ["L1", "L2", "L3", "L4"], "impact_labels": ["I1", "I2", "I3", "I4"],
           "levels": [{"name": "Low", "min": 1, "colour": "#00ff00"}, {"name": "High", "min": 6, "colour": "#ff0000"}],
           "appetite": 5, "note": "four by four"}
    spec = MatrixSpec.from_dict(doc)
    assert spec.to_dict() == doc
    assert spec.level(5) == "Low" and spec.level(6) == "High"


def test_unknown_matrix_keys_and_bad_levels_are_reported_together() -> None:
    with pytest.raises(InputError) as err:
        MatrixSpec.from_dict({"size": 5, "colour": "red", "levels": [{"name": "Low", "min": "one"}]})
    text = str(err.value)
    assert "unknown key" in text and "min" in text and "colour" in text


@pytest.mark.parametrize(("points", "size", "expected"), [
    (10, 5, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
    (3, 5, [1, 3, 5]),
    (4, 5, [1, 2, 4, 5]),
    (5, 3, [1, 2, 2, 3, 3]),
    (5, 5, [1, 2, 3, 4, 5]),
])
def test_rescale_maps_end_to_end(points: int, size: int, expected: list[int]) -> None:
    assert [rescale(v, points, size) for v in range(1, points + 1)] == expected


@given(st.integers(2, 10), st.integers(3, 6))
def test_rescale_is_monotone_and_keeps_the_ends(points: int, size: int) -> None:
    mapped = [rescale(v, points, size) for v in range(1, points + 1)]
    assert mapped[0] == 1 and mapped[-1] == size
    assert mapped == sorted(mapped)
    assert all(1 <= m <= size for m in mapped)


def test_percentages_map_to_equal_bands() -> None:
    assert [from_percent(p, 5) for p in (0, 20, 21, 40, 41, 99, 100)] == [1, 1, 2, 2, 3, 5, 5]


def test_numbers_within_the_matrix_are_taken_as_they_are() -> None:
    out = normalise_values(["1", "3", "5"], 5, LABELS_5)
    assert out.mapping == {"1": 1, "3": 3, "5": 5} and out.bad == {}
    assert "unchanged" in (out.note or "")


def test_numbers_above_the_matrix_read_as_1_to_10() -> None:
    out = normalise_values(["2", "7", "10"], 5, LABELS_5)
    assert out.mapping == {"2": 1, "7": 4, "10": 5}
    assert "1-10 onto 1-5" in (out.note or "")


def test_declared_scale_wins_over_detection() -> None:
    out = normalise_values(["1", "2", "3"], 5, LABELS_5, parse_scale_name("1-3"))
    assert out.mapping == {"1": 1, "2": 3, "3": 5}
    four = normalise_values(["4", "5"], 5, LABELS_5, parse_scale_name("1-4"))
    assert four.mapping == {"4": 5} and "5" in four.bad


@pytest.mark.parametrize(("values", "expected"), [
    (["Low", "medium", "HIGH"], {"Low": 1, "medium": 3, "HIGH": 5}),
    (["Very low", "Low", "Medium", "High", "Very high"], {"Very low": 1, "Low": 2, "Medium": 3, "High": 4,
                                                          "Very high": 5}),
    (["L", "M", "H"], {"L": 1, "M": 3, "H": 5}),
    (["Likely", "Rare"], {"Likely": 4, "Rare": 1}),                # the matrix's own labels
    (["Minor", "Catastrophic"], {"Minor": 2, "Catastrophic": 5}),
    (["35%", "100%", "0%"], {"35%": 2, "100%": 5, "0%": 1}),
    (["0.35", "0.9"], {"0.35": 2, "0.9": 5}),
    (["3 - Possible", "5 (Almost certain)"], {"3 - Possible": 3, "5 (Almost certain)": 5}),
])
def test_scales_registers_use(values: list[str], expected: dict[str, int]) -> None:
    out = normalise_values(values, 5, LABELS_5)
    assert out.mapping == expected
    assert out.bad == {}


def test_values_no_scale_has_are_bad_and_say_why() -> None:
    out = normalise_values(["Low", "often", "3.5", "0"], 5, LABELS_5)
    assert set(out.bad) == {"often", "3.5", "0"}
    assert out.mapping == {"Low": 1}


def test_unknown_scale_names() -> None:
    assert parse_scale_name("1-7") is not None
    assert parse_scale_name("sometimes-often") is None
    assert parse_scale_name("percent").kind == "percent"  # type: ignore[union-attr]
