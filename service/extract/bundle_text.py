"""A Bundle's JSON text read straight into the lean shapes (``fhir/lean.py``), for replay.

A replayed record is a whole Bundle, and most of its resources are of a type no rule reads or
are Observations of a fact no rule reads (blood counts: ``mapping.NOT_READ``). Parsing all of it
into Python objects and freeing them again cost more than extracting the facts did (300
resources: 0.81 ms to parse and 0.33 ms to free, of 2.9 ms). msgspec reads the text instead: an
entry's resource stays raw text until its type and code are read, and only a resource that
extraction reads (``is_read``) is decoded, into its lean shape, with the same type checks.
(Decoding every resource in one pass, into one shape with every lean field, took as long: what
it saved in passes it spent building and freeing the fields of resources no rule reads.)

The reading is exact or nothing. msgspec refuses more than the general reading (orjson or the
standard parser, then pydantic) does: ``true`` or ``"5"`` where a number belongs, which pydantic
converts; a number beyond a float or a lone surrogate, which the standard parser lets through;
an entry or a resource that is not an object, which the general reading skips. Within a
``contained`` resource it reads an integer beyond 64 bits as an integer where orjson reads a
float. In each of these cases :func:`read_bundle_text` returns None and the caller reads the
text the general way, so the assessment is the same either way
(``tests/test_bundle_text.py`` holds the two readings to each other).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec

from service.extract import is_read
from service.fhir.bundle import is_search_outcome
from service.fhir.lean import SHAPES, AnyResource, Medication
from service.mapping import CodeMaps

# The integers orjson reads as integers; beyond them it reads floats, msgspec integers.
_ORJSON_INTEGERS = range(-2**63, 2**64)


# Structs rather than dicts: msgspec fills their slots without building a dict per entry.
_ABSENT = msgspec.Raw()  # an entry without a resource (a present one is never empty text)


class Entry(msgspec.Struct):
    fullUrl: Any = None
    search: Any = None
    resource: msgspec.Raw = _ABSENT


class _Bundle(msgspec.Struct):
    resourceType: Any = None
    entry: list[Entry] = []


class _Head(msgspec.Struct):
    """What decides whether a resource is read (``is_read``): its type, and the text of its
    code (decoded once per distinct text of a Bundle: a record repeats a dozen codes)."""

    resourceType: Any = None
    code: msgspec.Raw = msgspec.Raw(b"null")


_BUNDLE = msgspec.json.Decoder(_Bundle)
_HEAD = msgspec.json.Decoder(_Head)
SHAPE_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    name: msgspec.json.Decoder(shape) for name, shape in SHAPES.items()}


class LeanRecord(NamedTuple):
    resources: list[AnyResource]  # the resources extraction reads, all valid, in Bundle order
    medications_by_url: dict[str, Medication]  # the Medications entries name by ``fullUrl``


def read_by_head(maps: CodeMaps) -> Callable[[str, msgspec.Raw], bool]:
    """``is_read`` of a resource from its type and the raw text of its code, decided once per
    distinct text (a record repeats a dozen codes), for one record."""
    decided: dict[tuple[str, bytes], bool] = {}  # (type, code text) → is_read

    def read(kind: str, code: msgspec.Raw) -> bool:
        code_text = bytes(code) if kind == "Observation" else b"null"  # what is_read reads
        if (known := decided.get((kind, code_text))) is not None:
            return known
        known = decided[kind, code_text] = is_read(
            {"resourceType": kind, "code": msgspec.json.decode(code_text)}, maps)
        return known

    return read


class _Differs(Exception):
    """The general reading could read this resource differently."""


def read_bundle_text(text: str | bytes, maps: CodeMaps) -> LeanRecord | None:
    """The lean record of a Bundle's JSON text, or None where this reading could differ from
    the general one (see the module's text): the caller then reads the text that way."""
    try:
        bundle = _BUNDLE.decode(text)
        if bundle.resourceType != "Bundle":
            return None
        resources: list[AnyResource] = []
        by_url: dict[str, Medication] = {}
        read = read_by_head(maps)
        for entry in bundle.entry:
            raw = entry.resource
            if not raw:
                continue
            head = _HEAD.decode(raw)
            kind: Any = head.resourceType
            url = entry.fullUrl
            if kind == "Medication" and isinstance(url, str):  # even in an outcome entry
                by_url[url] = _decoded(kind, raw)
            if not isinstance(kind, str) or is_search_outcome(entry.search):
                continue  # (is_read is False for a type that is not a string)
            if read(kind, head.code):
                resources.append(_decoded(kind, raw))
    except (msgspec.MsgspecError, _Differs):
        return None
    return LeanRecord(resources, by_url)


def _decoded(kind: str, raw: msgspec.Raw) -> Any:
    """``raw`` in the lean shape of ``kind``."""
    resource = SHAPE_DECODERS[kind].decode(raw)
    if not _as_orjson_reads(resource.get("contained")):
        raise _Differs
    return resource


def _as_orjson_reads(value: Any) -> bool:
    """Whether msgspec read ``value`` (free JSON, e.g. ``contained``) as orjson does: the two
    differ only on integers beyond 64 bits."""
    if isinstance(value, list):
        return all(_as_orjson_reads(item) for item in value)
    if isinstance(value, dict):
        return all(_as_orjson_reads(item) for item in value.values())
    return not isinstance(value, int) or isinstance(value, bool) or value in _ORJSON_INTEGERS
