"""Lean models of only the FHIR R4 fields the engine reads.

On the request path these replace full ``fhir.resources`` validation (about 30× the cost of the
JSON parse, STACK_NOTES.md): unknown fields are ignored, the fields read are type-checked, and a
resource that fails is reported as a data problem and left out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Lean(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Coding(Lean):
    system: str | None = None
    code: str | None = None
    display: str | None = None
    extension: list[Extension] = Field(default_factory=list)


class CodeableConcept(Lean):
    coding: list[Coding] = Field(default_factory=list)
    text: str | None = None


class Quantity(Lean):
    value: float | None = None
    comparator: str | None = None
    unit: str | None = None
    system: str | None = None
    code: str | None = None


class Period(Lean):
    start: str | None = None
    end: str | None = None


class Reference(Lean):
    reference: str | None = None


class Extension(Lean):
    url: str = ""
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueCoding: Coding | None = None
    extension: list[Extension] = Field(default_factory=list)


class Meta(Lean):
    profile: list[str] = Field(default_factory=list)


class Resource(Lean):
    id: str | None = None
    meta: Meta | None = None

    @property
    def profiles(self) -> list[str]:
        return self.meta.profile if self.meta else []


class Patient(Resource):
    resourceType: Literal["Patient"]
    birthDate: str | None = None
    gender: str | None = None


class Condition(Resource):
    resourceType: Literal["Condition"]
    clinicalStatus: CodeableConcept | None = None
    verificationStatus: CodeableConcept | None = None
    code: CodeableConcept | None = None
    bodySite: list[CodeableConcept] = Field(default_factory=list)
    onsetDateTime: str | None = None
    onsetPeriod: Period | None = None
    recordedDate: str | None = None
    extension: list[Extension] = Field(default_factory=list)


class ObservationComponent(Lean):
    code: CodeableConcept | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueQuantity: Quantity | None = None


class Observation(Resource):
    resourceType: Literal["Observation"]
    status: str | None = None
    code: CodeableConcept | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    issued: str | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: str | None = None
    interpretation: list[CodeableConcept] = Field(default_factory=list)
    component: list[ObservationComponent] = Field(default_factory=list)


class TimingRepeat(Lean):
    boundsPeriod: Period | None = None


class Timing(Lean):
    repeat: TimingRepeat | None = None


class Dosage(Lean):
    route: CodeableConcept | None = None
    timing: Timing | None = None


class MedicationIngredient(Lean):
    itemCodeableConcept: CodeableConcept | None = None


class Medication(Resource):
    resourceType: Literal["Medication"]
    code: CodeableConcept | None = None
    ingredient: list[MedicationIngredient] = Field(default_factory=list)


class MedicationStatement(Resource):
    resourceType: Literal["MedicationStatement"]
    status: str | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    dosage: list[Dosage] = Field(default_factory=list)
    contained: list[dict[str, Any]] = Field(default_factory=list)
    reasonReference: list[Reference] = Field(default_factory=list)


class MedicationRequest(Resource):
    resourceType: Literal["MedicationRequest"]
    status: str | None = None
    intent: str | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    authoredOn: str | None = None
    dosageInstruction: list[Dosage] = Field(default_factory=list)
    contained: list[dict[str, Any]] = Field(default_factory=list)
    reasonReference: list[Reference] = Field(default_factory=list)


class MedicationAdministration(Resource):
    resourceType: Literal["MedicationAdministration"]
    status: str | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    dosage: Dosage | None = None
    contained: list[dict[str, Any]] = Field(default_factory=list)
    reasonReference: list[Reference] = Field(default_factory=list)


class Procedure(Resource):
    resourceType: Literal["Procedure"]
    status: str | None = None
    code: CodeableConcept | None = None
    performedDateTime: str | None = None
    performedPeriod: Period | None = None
    bodySite: list[CodeableConcept] = Field(default_factory=list)
    extension: list[Extension] = Field(default_factory=list)


AnyResource = Annotated[
    Patient | Condition | Observation | Medication | MedicationStatement | MedicationRequest
    | MedicationAdministration | Procedure,
    Field(discriminator="resourceType"),
]
RESOURCE_TYPES = frozenset(
    ("Patient", "Condition", "Observation", "Medication", "MedicationStatement",
     "MedicationRequest", "MedicationAdministration", "Procedure")
)
resource_adapter: TypeAdapter[AnyResource] = TypeAdapter(AnyResource)
resources_adapter: TypeAdapter[list[AnyResource]] = TypeAdapter(list[AnyResource])
