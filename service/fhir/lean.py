"""Lean shapes of only the FHIR R4 fields the engine reads.

On the request path these replace full ``fhir.resources`` validation (about 30× the cost of the
JSON parse, STACK_NOTES.md): unknown fields are ignored, the fields read are type-checked, and a
resource that fails is reported as a data problem and left out.

The shapes are ``TypedDict``s that pydantic validates: a valid resource comes out as plain dicts
holding the fields that were sent (lax conversions done, e.g. an integer ``value`` as a float),
so extractors read absent and null fields alike with ``.get``. Plain dicts cost a third of what
model instances did (one instance per object of the resource), for the same checks.
"""

from __future__ import annotations

from types import NoneType, UnionType
from typing import (
    Annotated,
    Any,
    Literal,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from pydantic import Field, TypeAdapter
from pydantic_core import ErrorDetails
from typing_extensions import TypedDict, is_typeddict


class Coding(TypedDict, total=False):
    system: str | None
    code: str | None
    display: str | None
    extension: list[Extension]


class CodeableConcept(TypedDict, total=False):
    coding: list[Coding]
    text: str | None


class Quantity(TypedDict, total=False):
    value: float | None
    comparator: str | None
    unit: str | None
    system: str | None
    code: str | None


class Period(TypedDict, total=False):
    start: str | None
    end: str | None


class Reference(TypedDict, total=False):
    reference: str | None


class Extension(TypedDict, total=False):
    url: str
    valueQuantity: Quantity | None
    valueCodeableConcept: CodeableConcept | None
    valueCoding: Coding | None
    extension: list[Extension]


class Meta(TypedDict, total=False):
    profile: list[str]


class Resource(TypedDict, total=False):
    id: str | None
    meta: Meta | None


class Patient(Resource, total=False):
    resourceType: Required[Literal["Patient"]]
    birthDate: str | None
    gender: str | None


class Condition(Resource, total=False):
    resourceType: Required[Literal["Condition"]]
    clinicalStatus: CodeableConcept | None
    verificationStatus: CodeableConcept | None
    code: CodeableConcept | None
    bodySite: list[CodeableConcept]
    onsetDateTime: str | None
    onsetPeriod: Period | None
    recordedDate: str | None
    extension: list[Extension]


class ObservationComponent(TypedDict, total=False):
    code: CodeableConcept | None
    valueCodeableConcept: CodeableConcept | None
    valueQuantity: Quantity | None


class Observation(Resource, total=False):
    resourceType: Required[Literal["Observation"]]
    status: str | None
    code: CodeableConcept | None
    effectiveDateTime: str | None
    effectivePeriod: Period | None
    valueQuantity: Quantity | None
    valueCodeableConcept: CodeableConcept | None
    valueString: str | None
    interpretation: list[CodeableConcept]
    component: list[ObservationComponent]


class TimingRepeat(TypedDict, total=False):
    boundsPeriod: Period | None


class Timing(TypedDict, total=False):
    repeat: TimingRepeat | None


class Dosage(TypedDict, total=False):
    route: CodeableConcept | None
    timing: Timing | None


class MedicationIngredient(TypedDict, total=False):
    itemCodeableConcept: CodeableConcept | None


class Medication(Resource, total=False):
    resourceType: Required[Literal["Medication"]]
    code: CodeableConcept | None
    ingredient: list[MedicationIngredient]


class MedicationUse(Resource, total=False):
    """What the three resources that record a medication's use share (FHIR R4 spells these
    fields alike in each)."""

    status: str | None
    medicationCodeableConcept: CodeableConcept | None
    medicationReference: Reference | None
    contained: list[dict[str, Any]]
    reasonReference: list[Reference]


class MedicationStatement(MedicationUse, total=False):
    resourceType: Required[Literal["MedicationStatement"]]
    effectiveDateTime: str | None
    effectivePeriod: Period | None
    dosage: list[Dosage]


class MedicationRequest(MedicationUse, total=False):
    resourceType: Required[Literal["MedicationRequest"]]
    intent: str | None
    authoredOn: str | None
    dosageInstruction: list[Dosage]


class MedicationAdministration(MedicationUse, total=False):
    resourceType: Required[Literal["MedicationAdministration"]]
    effectiveDateTime: str | None
    effectivePeriod: Period | None
    dosage: Dosage | None


class Procedure(Resource, total=False):
    resourceType: Required[Literal["Procedure"]]
    status: str | None
    code: CodeableConcept | None
    performedDateTime: str | None
    performedPeriod: Period | None
    bodySite: list[CodeableConcept]
    extension: list[Extension]


AnyResource = Annotated[
    Patient | Condition | Observation | Medication | MedicationStatement | MedicationRequest
    | MedicationAdministration | Procedure,
    Field(discriminator="resourceType"),
]
resource_adapter: TypeAdapter[AnyResource] = TypeAdapter(AnyResource)
resources_adapter: TypeAdapter[list[AnyResource]] = TypeAdapter(list[AnyResource])
medication_adapter: TypeAdapter[Medication] = TypeAdapter(Medication)
SHAPES: dict[str, Any] = {shape.__name__: shape for shape in get_args(get_args(AnyResource)[0])}
RESOURCE_TYPES = frozenset(SHAPES)  # the resource types read; others are left out unread


def profiles(resource: Resource) -> list[str]:
    return (resource.get("meta") or {}).get("profile", [])


def error_message(error: ErrorDetails) -> str:
    """The message of a validation error, worded as when the shapes were pydantic models (data
    problems read the same as before): a non-object where a shape belongs "should be a valid
    dictionary or instance of" the shape, named."""
    shape = _shape_at(error["loc"]) if error["type"] == "dict_type" else None
    return error["msg"] if shape is None else f"{error['msg']} or instance of {shape}"


def _shape_at(loc: tuple[int | str, ...]) -> str | None:
    """The name of the shape an error location (``("Condition", "code")``) expects, or None where
    a plain object is expected (``contained``)."""
    expected: Any = SHAPES.get(str(loc[0])) if loc else None
    for step in loc[1:]:
        expected = _inner(expected, step)
    return expected.__name__ if is_typeddict(expected) else None


def _inner(expected: Any, step: int | str) -> Any:
    """What a shape's field (a name) or a list's items (an index) expect; None within a value
    that is neither."""
    if isinstance(step, int):
        return get_args(expected)[0] if get_origin(expected) is list else None
    if not is_typeddict(expected):
        return None
    hint = get_type_hints(expected).get(step)
    if get_origin(hint) in (Union, UnionType):  # ``X | None``: the X
        return next(a for a in get_args(hint) if a is not NoneType)
    return hint
