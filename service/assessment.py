"""The assessment: the engine's machine-readable result for one patient (OUTPUT.md §1).

The JSON Schema that every assessment must satisfy is kept in ``service/schemas/`` and is
checked by the tests; ``to_json`` drops empty and null fields so the output can travel inside a
CDS Hooks card unchanged.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.vocabulary import BfmTiming, CogTiming, Phenotype, Population, Severity, Site

SCHEMA_ID = "relapsed-all-assessment/1"

NotApplicable = Literal["not-applicable"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Timing(Model):
    cog: CogTiming
    bfm: BfmTiming
    bfm_provisional: BfmTiming | None = None  # the reading that assumes 24 months of therapy


class FirstRelapse(Model):
    """For a second or later relapse: the first relapse, labelled as such (CLINICAL_RULES §1.6)."""

    date: str
    months_from_diagnosis: int | None = None
    months_after_frontline_end: int | None = None
    relapse_on_therapy: bool | None = None
    timing: Timing


class Relapse(Model):
    number: int
    date: str | None = None
    refractory: bool = False
    site: Site
    extramedullary_sites: list[str] = Field(default_factory=list)
    cns_status: str | None = None
    marrow_status: str | None = None
    immunophenotype: Phenotype
    months_from_diagnosis: int | None = None
    months_after_frontline_end: int | None = None
    relapse_on_therapy: bool | None = None
    timing: Timing | None = None  # first relapse only (§1.2, §1.6)
    months_since_previous_relapse: int | None = None
    first_relapse: FirstRelapse | None = None
    after_hsct: bool
    months_after_hsct: int | None = None
    after_car_t: bool
    months_after_car_t: int | None = None


class Stratum(Model):
    group: str
    risk: str | None = None  # BFM only: standard / intermediate / high / indeterminate
    reason: str
    depends_on: list[str] = Field(default_factory=list)
    outcomes: str | None = None


class Advice(Model):
    """A recommendation or a warning."""

    code: str
    text: str
    sources: list[str]
    severity: Severity | None = None  # warnings only
    rests_on: list[str] = Field(default_factory=list)
    refs: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)


class Missing(Model):
    fact: str
    affects: list[str]
    how: str
    decides: str | None = None


class Evidence(Model):
    fact: str
    value: Any
    refs: list[str] = Field(default_factory=list, serialization_alias="from")
    note: str | None = None


class Problem(Model):
    ref: str
    problem: str


class Assessment(Model):
    schema_: str = Field(default=SCHEMA_ID, serialization_alias="schema")
    patient: str | None = None
    as_of: str
    applicable: bool
    population: Population | None = None
    age_at_diagnosis_years: int | None = None
    age_at_relapse_years: int | None = None
    relapse: Relapse | None = None
    strata: dict[str, Stratum | NotApplicable] = Field(default_factory=dict)
    recommendations: list[Advice] = Field(default_factory=list)
    warnings: list[Advice] = Field(default_factory=list)
    missing: list[Missing] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The assessment as JSON-ready data, without nulls or empty values."""
        # pydantic drops the nulls itself (fewer for without_empty to walk; the result is the same)
        data: dict[str, Any] = without_empty(self.model_dump(mode="json", by_alias=True,
                                                             exclude_none=True))
        return data


EMPTY: tuple[Any, ...] = (None, "", [], {})


def without_empty(value: Any) -> Any:
    """JSON without null or empty values, at any depth (CDS Hooks forbids them)."""
    if isinstance(value, dict):
        return _dict_without_empty(value)
    if isinstance(value, list):
        return _list_without_empty(value)
    return value


# The two helpers below test each item in place instead of calling without_empty on it: most
# items are strings, and a call per leaf was most of the cost of to_json and of every card.

def _dict_without_empty(data: dict[Any, Any]) -> dict[Any, Any]:
    kept: dict[Any, Any] = {}
    for key, value in data.items():
        if isinstance(value, str):
            if value:
                kept[key] = value
        elif isinstance(value, dict):
            value = _dict_without_empty(value)
            if value:
                kept[key] = value
        elif isinstance(value, list):
            value = _list_without_empty(value)
            if value:
                kept[key] = value
        elif value not in EMPTY:
            kept[key] = value
    return kept


def _list_without_empty(data: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for value in data:
        if isinstance(value, str):
            if value:
                kept.append(value)
        elif isinstance(value, dict):
            value = _dict_without_empty(value)
            if value:
                kept.append(value)
        elif isinstance(value, list):
            value = _list_without_empty(value)
            if value:
                kept.append(value)
        elif value not in EMPTY:
            kept.append(value)
    return kept


@lru_cache(maxsize=1)
def assessment_schema() -> dict[str, Any]:
    """The JSON Schema of an assessment, as kept in the package."""
    text = resources.files("service").joinpath("schemas/assessment.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
