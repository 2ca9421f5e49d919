"""Input schemas inferred from the training frame: types from dtypes, values, nulls, ranges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hubship.schema import infer_input, infer_inputs


def test_integer_column_is_integer_with_range():
    spec = infer_input("year", pd.Series([2009, 2007, 2008]))
    assert (spec.type, spec.nullable, spec.min, spec.max) == ("integer", False, 2007, 2009)


def test_nullable_integer_dtype_is_integer_and_nullable():
    spec = infer_input("eggs", pd.Series([1, None, 3], dtype="Int64"))
    assert (spec.type, spec.nullable, spec.min, spec.max) == ("integer", True, 1, 3)


def test_float_column_stays_number_even_when_values_are_whole():
    spec = infer_input("flipper", pd.Series([181.0, np.nan, 195.0]))
    assert (spec.type, spec.nullable, spec.min, spec.max) == ("number", True, 181.0, 195.0)


def test_text_column_is_category_with_sorted_distinct_values():
    spec = infer_input("island", pd.Series(["Dream", "Biscoe", None, "Dream"]))
    assert (spec.type, spec.nullable, spec.values) == ("category", True, ["Biscoe", "Dream"])


def test_object_and_categorical_dtypes_are_categories():
    plain = infer_input("c", pd.Series(["b", "a"], dtype=object))
    categorical = infer_input("c", pd.Series(["b", "a", "b"], dtype="category"))
    assert plain.values == categorical.values == ["a", "b"]
    assert categorical.type == "category"


def test_boolean_columns_with_and_without_missing_values():
    assert infer_input("adult", pd.Series([True, False])).type == "boolean"
    spec = infer_input("adult", pd.Series([True, None, False], dtype=object))
    assert (spec.type, spec.nullable) == ("boolean", True)


def test_values_are_plain_json_types():
    spec = infer_input("code", pd.Series([np.int64(3), np.int64(1)], dtype=object))
    assert spec.values == [1, 3] and all(type(v) is int for v in spec.values)


def test_frame_keeps_column_order():
    frame = pd.DataFrame({"b": [1.0], "a": ["x"], "c": [True]})
    assert [(s.name, s.type) for s in infer_inputs(frame)] == [
        ("b", "number"), ("a", "category"), ("c", "boolean")]


@pytest.mark.parametrize(("column", "problem"), [
    (pd.Series(pd.to_datetime(["2024-01-01"])), "dtype datetime64"),
    (pd.Series([None, None], dtype=object), "no values at all"),
    (pd.Series([1.0, np.inf]), "infinite"),
    (pd.Series([[1], [2]], dtype=object), "type list"),
])
def test_columns_that_cannot_be_inputs_are_named(column, problem):
    with pytest.raises(ValueError, match=problem) as caught:
        infer_input("when", column)
    assert "'when'" in str(caught.value)


def test_non_text_column_names_are_refused():
    with pytest.raises(ValueError, match="column names must be non-empty text"):
        infer_inputs(pd.DataFrame({0: [1.0]}))
