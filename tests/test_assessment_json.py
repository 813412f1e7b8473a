"""``without_empty``: what CDS Hooks forbids (nulls, empty strings, lists and objects) is dropped
at any depth, and nothing else; checked against its plain recursive definition on any JSON."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.assessment import Advice, Assessment, Evidence, without_empty

leaves = (st.none() | st.booleans() | st.integers(-2, 2) | st.floats(allow_nan=False)
          | st.sampled_from(["", "0", "x", " "]))
json_values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(["a", "b", "", "c"]), inner,
                                             max_size=4), max_leaves=30)


def defined(value: Any) -> Any:
    """The rule as written down: clean the children, then drop the empty ones."""
    empty = (None, "", [], {})
    if isinstance(value, dict):
        cleaned = {k: defined(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in empty}
    if isinstance(value, list):
        return [v for v in map(defined, value) if v not in empty]
    return value


@given(json_values)
def test_without_empty_follows_its_definition_and_leaves_the_input_alone(value: Any) -> None:
    before = copy.deepcopy(value)
    cleaned = without_empty(value)
    assert cleaned == defined(value)
    assert repr(cleaned) == repr(defined(value))  # same key order, same types (0 and False kept)
    assert value == before


def test_zero_and_false_stay_and_empties_go_at_any_depth() -> None:
    value = {"a": [None, "", [], {}, [[""]], {"b": {"c": None}}, 0, False, "x"], "d": {"e": []}}
    assert without_empty(value) == {"a": [0, False, "x"]}


def test_to_json_is_the_dump_without_empties_whatever_holds_a_null() -> None:
    """to_json lets pydantic drop the nulls first: the result is what cleaning the full dump
    gives, nulls inside free-form values (params, evidence values) included."""
    assessment = Assessment(
        as_of="2024-01-01", applicable=True, population=None, notes=["", "n"],
        recommendations=[Advice(code="c", text="t", sources=["000"],
                                params={"a": None, "b": [None, {}, 0], "c": {"d": None}})],
        evidence=[Evidence(fact="f", value={"x": None, "y": [None]}),
                  Evidence(fact="g", value=None, note=None),
                  Evidence(fact="h", value=False, refs=[])])
    full = without_empty(assessment.model_dump(mode="json", by_alias=True))
    assert repr(assessment.to_json()) == repr(full)
    assert full["recommendations"][0]["params"] == {"b": [0]}
    assert full["evidence"] == [{"fact": "f"}, {"fact": "g"}, {"fact": "h", "value": False}]
