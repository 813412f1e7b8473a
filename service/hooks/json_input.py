"""JSON from outside (a request body, a FHIR server's answer), parsed strictly.

Python's parser accepts what JSON does not and what later breaks: ``NaN`` and ``Infinity``,
numbers too large for a float (they become ``inf``), and ``\\ud800``-style escapes that leave a
lone surrogate in a string (it cannot be encoded again, not even for a log or a database).
Each is refused here with :class:`InvalidJson`, as are nesting too deep for the parser and
integers too long to convert.

msgspec reads the JSON first, in a tenth less time than orjson took with the scan for long
integers it needed (orjson reads integers beyond 64 bits as floats). msgspec refuses the
constants, numbers beyond a float, lone surrogates, a byte order mark and integers beyond its
range, and reads any other integer exactly, as the standard parser does; nesting it reads up to
the interpreter's recursion limit (1,000 levels; the standard parser: about 950). What it refuses
goes to the standard parser, so the values and the error messages are its own.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgspec
import orjson

SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_DECODER = msgspec.json.Decoder()


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON. orjson writes it (a fifteenth of the standard encoder's
    time for a call's cards); what orjson cannot write, the standard encoder does: integers
    beyond 64 bits, which the standard parser lets through from a request."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class InvalidJson(ValueError):
    """Not JSON this service accepts; the message says why, never the content."""


def loads_strict(data: bytes | bytearray) -> Any:
    """The value of UTF-8 JSON text (RFC 8259 allows no other encoding between systems)."""
    try:
        return _DECODER.decode(data)
    except (msgspec.MsgspecError, ValueError, RecursionError):  # ValueError: not UTF-8
        return _loads_standard(data)  # the standard parser says why, in its words


def _loads_standard(data: bytes | bytearray) -> Any:
    try:
        text = data.decode("utf-8-sig")
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # e.g. 10,000 nested lists: the parser's recursion limit
        raise InvalidJson("the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # ValueError: also too-long integers
        raise InvalidJson(exc.args[0] if isinstance(exc, InvalidJson) else "not valid JSON") \
            from None
    if SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise InvalidJson("a string holds a lone UTF-16 surrogate")
    return value


def _refuse_constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise InvalidJson("a number is too large")
    return number


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
