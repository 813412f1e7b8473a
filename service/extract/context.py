"""State shared by the extractors of one record: the maps, the as-of date, the problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from service.facts import DataProblem, FuzzyDate
from service.fhir.dates import parse_fhir_date
from service.fhir.lean import CodeableConcept, Condition, Medication
from service.mapping import CodeMaps, Concept

# The start of the problem text of a resource that is not valid FHIR (replay counts them).
INVALID_FHIR = "not valid FHIR"


@dataclass(frozen=True)
class RelapseStatus:
    """An ALL-diagnosis Condition whose clinicalStatus says relapse, read when all are known."""

    cond: Condition
    concepts: list[Concept]
    onset: FuzzyDate | None
    lineage: str | None
    sites: frozenset[str]


@dataclass
class Context:
    maps: CodeMaps
    as_of: date
    medications: dict[str, Medication] = field(default_factory=dict)  # "Medication/id" → resource
    problems: list[DataProblem] = field(default_factory=list)
    future: set[str] = field(default_factory=set)  # refs dated after the assessment date
    all_conditions: set[str] = field(default_factory=set)  # "Condition/id" of ALL Conditions
    relapse_status: list[RelapseStatus] = field(default_factory=list)
    undated_relapses: list[tuple[str, str]] = field(default_factory=list)  # (ref, why)
    # The facts read one per resource, kept as their fields until the whole record is read and
    # then made together (``extract_facts``): one validation for a list costs half of one per fact.
    measurements: list[dict[str, Any]] = field(default_factory=list)
    therapies: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, ref: str, text: str) -> None:
        self.problems.append(DataProblem(ref=ref, problem=text))

    def concepts(self, role: str, concept: CodeableConcept | None) -> list[Concept]:
        """Every concept the maps know among the codings, in coding order."""
        if not concept:
            return []
        found = (self.maps.find(role, c.get("system"), c.get("code"))
                 for c in concept.get("coding", ()))
        return [hit for hit in found if hit is not None]

    def concept(self, role: str, concept: CodeableConcept | None) -> Concept | None:
        """The first concept the maps know among the codings."""
        for coding in concept.get("coding", ()) if concept else ():
            found = self.maps.find(role, coding.get("system"), coding.get("code"))
            if found is not None:
                return found
        return None

    def first_concept(self, role: str, concepts: list[CodeableConcept]) -> Concept | None:
        """The first concept the maps know, the codeable concepts read in order."""
        for concept in concepts:
            found = self.concept(role, concept)
            if found is not None:
                return found
        return None

    def date(self, ref: str, text: str | None, what: str,
             allow_future: bool = False) -> FuzzyDate | None:
        """A date of the record, or None (with a problem) when unreadable or in the future
        (``allow_future``: plans may be dated ahead)."""
        try:
            parsed = parse_fhir_date(text)
        except ValueError:
            self.problem(ref, f"{what} is not a valid date; ignored")
            return None
        if not allow_future and parsed is not None and parsed.earliest > self.as_of:
            self.problem(ref, f"{what} {parsed.earliest.isoformat()} is after the assessment date "
                              f"{self.as_of.isoformat()}; ignored")
            self.future.add(ref)
            return None
        return parsed


def ref_of(resource: Any) -> str:
    return f"{resource['resourceType']}/{resource.get('id') or '(no id)'}"


def show_codings(*concepts: CodeableConcept | None) -> str:
    """``system|code`` of the first codings, to name what was not understood (no values)."""
    shown = [f"{c.get('system') or '(no system)'}|{c.get('code') or '(no code)'}"
             for concept in concepts if concept for c in concept.get("coding", ())]
    return ", ".join(shown[:4]) or "no coding"


def reference_key(reference: str) -> str:
    """``Type/id`` of a relative or absolute reference (a ``_history`` tail is dropped)."""
    return "/".join(reference.split("/_history")[0].rstrip("/").split("/")[-2:])
