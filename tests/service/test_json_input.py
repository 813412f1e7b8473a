"""The strict JSON reader: msgspec reads first, and what it refuses goes to the standard parser,
so values and messages are the standard parser's."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from service.hooks.json_input import InvalidJson, _loads_standard, dumps, loads_strict


def _outcome(read: Callable[[bytes], object], data: bytes) -> tuple[str, str]:
    try:
        return "value", repr(read(data))
    except InvalidJson as exc:
        return "refused", str(exc)


@pytest.mark.parametrize("text", [
    "18446744073709551616", "-9223372036854775809", "[1234567890123456789012345]",
    "9223372036854775807", "-9223372036854775808", "1e400", "-1e400", "1e-400", "NaN",
    "[Infinity]", '"\\ud800"', '["\\ud83d\\ude00"]', "\ufeff{}", "[1,]", "01", "", "{\"a\":1,\"a\":2}",
    "[" * 2000 + "]" * 2000, "[" + "7" * 1000 + "]", "7" * 5000, "-0", "1E2", '"\\u0000"',
    '"\\ud83d"', "[1.0000000000000000000001]",
])
def test_values_and_messages_are_the_standard_parsers(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    assert _outcome(loads_strict, data) == _outcome(_loads_standard, data)


@pytest.mark.parametrize(("text", "outcome"), [
    ("NaN", ("refused", "NaN is not a JSON number")),
    ("[1e400]", ("refused", "a number is too large")),
    ('["\\ud800"]', ("refused", "a string holds a lone UTF-16 surrogate")),
    ("[" * 5000 + "]" * 5000, ("refused", "the JSON is nested too deeply")),
    ('["\\ud83d\\ude00"]', ("value", repr(["\N{GRINNING FACE}"]))),  # a pair is one character
    ("\ufeff[1]", ("value", "[1]")),  # a byte order mark is read past, as before
])
def test_what_the_service_refuses_it_names(text: str, outcome: tuple[str, str]) -> None:
    """A client is told why its JSON was refused (without its content)."""
    assert _outcome(loads_strict, text.encode()) == outcome


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


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(JSON_VALUES)
@example({"count": 2**70, "ratio": 1e-7, "text": "é\u2028"})  # the fallback, and orjson's own
def test_what_the_service_writes_reads_back_as_the_same_value(value: object) -> None:
    """Answers are written by orjson, or by the standard encoder for what orjson cannot write
    (integers beyond 64 bits): either way the same value, as UTF-8 (not \\u escapes)."""
    written = dumps(value)
    assert json.loads(written) == value
    assert b"\\u00e9" not in dumps("é")
    assert "é".encode() in dumps({"count": 2**70, "text": "é"})  # the standard encoder's too
