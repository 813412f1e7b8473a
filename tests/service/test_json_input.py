"""The strict JSON reader: orjson reads first, and what it reads differently or refuses goes to
the standard parser, so values and messages are the standard parser's."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.hooks.json_input import InvalidJson, _loads_standard, loads_strict


def _outcome(read: Callable[[bytes], object], data: bytes) -> tuple[str, str]:
    try:
        return "value", repr(read(data))
    except InvalidJson as exc:
        return "refused", str(exc)


@pytest.mark.parametrize("text", [
    "18446744073709551616", "-9223372036854775809", "[1234567890123456789012345]",
    "9223372036854775807", "-9223372036854775808", "1e400", "-1e400", "1e-400", "NaN",
    "[Infinity]", '"\\ud800"', '["\\ud83d\\ude00"]', "\ufeff{}", "[1,]", "01", "", "{\"a\":1,\"a\":2}",
    "[" * 2000 + "]" * 2000,
])
def test_values_and_messages_are_the_standard_parsers(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    assert _outcome(loads_strict, data) == _outcome(_loads_standard, data)


def test_invalid_utf8_is_refused_as_before() -> None:
    assert _outcome(loads_strict, b'"\xff"') == ("refused", "not valid JSON")


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20))
def test_any_json_value_reads_as_the_standard_parser_reads_it(value: object) -> None:
    data = json.dumps(value, ensure_ascii=False).encode()
    assert repr(loads_strict(data)) == repr(_loads_standard(data))
