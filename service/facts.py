"""Typed facts extracted from a patient's FHIR record.

Every fact keeps ``refs``: the FHIR references (``Condition/abc``) of the resources it was read
from, so that each statement the engine makes can be traced back to the record.  The extractor
(``service.extract``) fills these models; the engine (``service.engine``) reads only these.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Values that come from the code maps are plain strings here: the map loader checks them
# against the allowed values (service/mapping.py FACTS).
Lineage = str  # B / T
TherapyStatus = Literal["given", "current", "planned"]
MrdMethod = str  # flow / pcr / ngs
Comparator = str  # < <= = > >=


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)
    refs: tuple[str, ...] = ()


class FuzzyDate(BaseModel):
    """A FHIR date that may be partial: ``2019-07`` stands for 2019-07-01 … 2019-07-31."""

    model_config = ConfigDict(frozen=True)
    earliest: date
    latest: date
    text: str

    @property
    def exact(self) -> bool:
        return self.earliest == self.latest


class Diagnosis(Fact):
    """An ALL diagnosis Condition (not a relapse)."""

    onset: FuzzyDate | None = None
    date_from_recorded: bool = False
    lineage: Lineage | None = None
    ph_positive: bool = False
    genetics: tuple[str, ...] = ()


class RelapseRecord(Fact):
    """One relapse Condition (or an ALL Condition whose clinical status says relapse)."""

    onset: FuzzyDate | None = None
    coded_sites: frozenset[str] = frozenset()  # marrow, cns, testis, other
    lineage: Lineage | None = None


class Refractory(Fact):
    recorded: FuzzyDate | None = None


class CnsCondition(Fact):
    """Meningeal leukaemia / CNS disorder due to ALL, as a Condition."""

    onset: FuzzyDate


class Measurement(Fact):
    """A numeric laboratory result in the unit the engine uses for that kind."""

    kind: str
    when: date
    value: float
    comparator: str | None = None


class Finding(Fact):
    """A positive/negative result: CSF blasts, CNS clinical signs, testicular biopsy, CD19 …"""

    kind: str
    when: date
    positive: bool
    percent: float | None = None


class Mrd(Fact):
    """Marrow MRD normalised to a fraction of nucleated cells.

    ``comparator`` ``<`` means "below ``fraction``" (a negative result at that sensitivity).
    """

    when: date
    fraction: float
    comparator: Comparator = "="
    method: MrdMethod


class GeneticFinding(Fact):
    finding: str  # BCR-ABL1, ABL-class, JAK2-fusion, TP53, TCF3-HLF, TCF3-PBX1, KMT2A, ...
    when: date | None = None


class Therapy(Fact):
    """An antileukaemic or cellular therapy from a medication resource."""

    agent: str
    status: TherapyStatus
    start: date | None = None
    end: date | None = None
    intrathecal: bool = False
    antileukemic: bool = True


class ProcedureFact(Fact):
    kind: str  # hsct-allogeneic, hsct-autologous, radiotherapy, car-t-infusion, orchiectomy
    status: str  # done / planned
    when: date | None = None
    regions: frozenset[str] = frozenset()  # cranial, craniospinal, tbi, testis
    dose_gy: float | None = None


class DataProblem(BaseModel):
    """Something in the record that could not be used, said without patient data."""

    model_config = ConfigDict(frozen=True)
    ref: str
    problem: str


class PatientFacts(BaseModel):
    """Everything the engine may read about one patient."""

    patient: str | None = None
    birth_date: FuzzyDate | None = None
    gender: str | None = None
    diagnoses: list[Diagnosis] = Field(default_factory=list)
    relapses: list[RelapseRecord] = Field(default_factory=list)
    refractory: list[Refractory] = Field(default_factory=list)
    cns_conditions: list[CnsCondition] = Field(default_factory=list)
    measurements: list[Measurement] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    mrd: list[Mrd] = Field(default_factory=list)
    genetics: list[GeneticFinding] = Field(default_factory=list)
    therapies: list[Therapy] = Field(default_factory=list)
    procedures: list[ProcedureFact] = Field(default_factory=list)
    problems: list[DataProblem] = Field(default_factory=list)
