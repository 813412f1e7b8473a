"""A patient-view call's JSON text read straight into the lean shapes (``fhir/lean.py``).

A call's prefetch often holds a patient's whole record: a FHIR server that ignores the
Observation search's code filter sends years of blood counts, which no rule reads
(``mapping.NOT_READ``). Parsing all of it into Python objects, sorting and checking them, and
freeing them again took half of such a call's CPU time (286 resources, 245 KB: 2.2 ms from the
text to the facts). msgspec reads the text instead, as replay does
(``extract/bundle_text.py``): each prefetched resource stays raw text until its type, id,
patient and code are read, and only a resource that would be extracted is decoded, into its lean
shape, with the same type checks.

The reading is exact or nothing: it decides what the general reading (``loads_strict``, then
``resolve_resources`` and ``extract_facts``) decides, in the same order (the keys in the order
of the prefetch templates, each resource once, another patient's resources left out), or it
returns None and the call is read the general way. It steps aside for anything that would be
fetched or followed from the FHIR server, for a resource or an entry that is not an object, for
a value its lean shape does not take as it stands (pydantic would convert ``"5"``, or report an
invalid resource), and for text that is not UTF-8 (``tests/service/test_call_text.py`` holds the
two readings to each other). The order calls only read the general way: their checks read the
resources as parsed.

One difference is by design: a number beyond a float's range in a value the service never
reads (a blood count, a field no lean shape has) is skipped unread here, where the general
reading refuses the whole call (it cannot know the value is not needed). Where a lean shape
reads the number, msgspec refuses it and the general reading answers as before. (The log line
that counts another patient's resources counts those that would have been read.)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

import msgspec

from service.extract.bundle_text import SHAPE_DECODERS, Entry, LeanRecord, read_by_head
from service.fhir.bundle import is_search_outcome
from service.fhir.client import next_link
from service.fhir.lean import AnyResource
from service.hooks.discovery import PATIENT, REQUIRED_KEYS
from service.hooks.prefetch import names_patient, unique
from service.mapping import CodeMaps

log = logging.getLogger(__name__)

_NULL = msgspec.Raw(b"null")


class _Call(msgspec.Struct):
    """What ``parse_hook_request`` reads of a call, and its prefetch, each value as raw text."""

    hook: Any = None
    hookInstance: Any = None
    context: Any = None
    fhirServer: Any = None
    fhirAuthorization: Any = None
    prefetch: dict[str, msgspec.Raw] | None = None


class _Value(msgspec.Struct):
    """What decides whether a prefetched value answers its query (``prefetch._usable``)."""

    resourceType: Any = None
    id: Any = None
    link: Any = None
    entry: list[Entry] = []


class _Reference(msgspec.Struct):
    reference: Any = None


class _Head(msgspec.Struct):
    """What decides whether a resource is kept (``prefetch.unique``, ``of_patient``) and read."""

    resourceType: Any = None
    id: Any = None
    code: msgspec.Raw = _NULL
    subject: _Reference | None = None
    patient: _Reference | None = None


_CALL = msgspec.json.Decoder(_Call)
_VALUE = msgspec.json.Decoder(_Value)
_HEAD = msgspec.json.Decoder(_Head)


class CallText(NamedTuple):
    request: dict[str, Any]  # the call without its prefetch, for ``parse_hook_request``
    prefetch: dict[str, msgspec.Raw]


def read_call_text(data: bytes) -> CallText | None:
    """The call's fields and raw prefetch values, or None where the general reading must
    answer (text that is not a JSON object in UTF-8, a prefetch that is not an object)."""
    try:
        data.decode("utf-8")  # msgspec does not check the text of the values it skips
        call = _CALL.decode(data)
    except (msgspec.MsgspecError, RecursionError, UnicodeDecodeError):  # the general one says why
        return None
    request = {"hook": call.hook, "hookInstance": call.hookInstance, "context": call.context,
               "fhirServer": call.fhirServer, "fhirAuthorization": call.fhirAuthorization}
    return CallText(request, call.prefetch or {})


def lean_prefetch(prefetch: dict[str, msgspec.Raw], templates: Mapping[str, str],
                  patient_id: str, maps: CodeMaps, *, can_fetch: bool) -> LeanRecord | None:
    """The resources extraction reads of the prefetch, in their lean shapes, as the general
    reading would find them; None where it must do the reading (see the module's text)."""
    heads: list[tuple[_Head, msgspec.Raw]] = []
    try:
        for key, template in templates.items():
            raw = prefetch.get(key)
            found = None if raw is None else _found(raw, template.replace(PATIENT, patient_id))
            if found is None:
                if raw is not None or can_fetch or key in REQUIRED_KEYS:
                    return None  # fetched, followed or refused (412) the general way
                continue  # nothing to fetch it from: the general reading goes on without it
            heads.extend(found)
        return LeanRecord(_read(unique(heads, _type_and_id), patient_id, maps), {})
    except (msgspec.MsgspecError, RecursionError):  # e.g. 1,000 nested lists in ``contained``
        return None


def _found(raw: msgspec.Raw, query: str) -> list[tuple[_Head, msgspec.Raw]] | None:
    """The resources a prefetched value holds for ``query`` (``prefetch._usable`` and
    ``_resources``), or None when it does not answer it or has more pages."""
    value = _VALUE.decode(raw)
    if "?" in query:
        if value.resourceType != "Bundle" or next_link({"link": value.link}) is not None:
            return None
        return [(_HEAD.decode(e.resource), e.resource) for e in value.entry
                if e.resource and not is_search_outcome(e.search)]
    expected_type, _, expected_id = query.partition("/")
    if value.resourceType != expected_type or value.id not in (None, expected_id):
        return None
    return [(_HEAD.decode(raw), raw)]


def _type_and_id(item: tuple[_Head, msgspec.Raw]) -> tuple[Any, Any]:
    return item[0].resourceType, item[0].id


def _read(heads: list[tuple[_Head, msgspec.Raw]], patient_id: str, maps: CodeMaps
          ) -> list[AnyResource]:
    """The resources extraction reads (``is_read``) of the patient (``of_patient``), decoded
    into their lean shapes. (The two filters commute: they are applied in the cheaper order.)"""
    read = read_by_head(maps)
    resources: list[AnyResource] = []
    others = 0
    for head, raw in heads:
        kind = head.resourceType
        if not isinstance(kind, str) or not read(kind, head.code):
            continue
        if _of_patient(head, kind, patient_id):
            resources.append(SHAPE_DECODERS[kind].decode(raw))
        else:
            others += 1
    if others:
        log.warning("dropped %d resources of another patient", others)
    return resources


def _of_patient(head: _Head, kind: str, patient_id: str) -> bool:
    """``prefetch.of_patient`` of the resource ``head`` heads: a Patient by its id, any other
    by the first of its references (a ``_Reference`` is a JSON object, as there)."""
    if kind == "Patient":
        return bool(head.id == patient_id)
    for reference in (head.subject, head.patient):
        if reference is not None and isinstance(reference.reference, str):
            return names_patient(reference.reference, patient_id)
    return True
