"""Hypothesis building blocks for changing a JSON record anywhere: any JSON value, and every
place in a value where another could stand (shared by the tests of the two readings of a text)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

json_leaf = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
             | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6))
json_values = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                           max_leaves=8)


def places(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value where another value could stand."""
    found = [here] if here else []
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, inner in items:
        found.extend(places(inner, (*here, key)))
    return found
