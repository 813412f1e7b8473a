"""The case: what the engine has worked out about one patient's relapse, read by every rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from service.assessment import Advice, Evidence, Missing
from service.engine.episodes import Episode
from service.engine.index import FactIndex
from service.engine.population import Population
from service.engine.site import SiteReading
from service.engine.stratify import Result
from service.engine.therapy import Frontline
from service.engine.timing import BfmTiming
from service.facts import FuzzyDate, Mrd, PatientFacts
from service.sources import SOURCES
from service.vocabulary import Severity

# How to obtain each missing fact (OUTPUT.md §1 missing-fact codes).
HOW = {
    "birth-date": "Record the patient's date of birth (Patient.birthDate).",
    "diagnosis-date": "Record the date of initial ALL diagnosis as the onset of the ALL "
                      "diagnosis Condition.",
    "relapse-date": "Record the relapse as a Condition with its onset date.",
    "immunophenotype": "Record the lineage (B-cell precursor or T-cell) from flow cytometry, as "
                       "a coded ALL Condition (e.g. SNOMED 277572006 or 277575008).",
    "relapse-site": "Record the marrow, CSF and (boys) testicular findings at relapse, or the "
                    "relapse Condition's bodySite.",
    "marrow-blasts": "Record the marrow blast percentage at relapse (LOINC 11150-0).",
    "csf-findings": "Lumbar puncture at relapse: CSF leukocytes, erythrocytes and cytospin blasts "
                    "(LOINC 26465-5, 26454-9, 35068-6).",
    "testicular-biopsy": "Testicular biopsy: involvement must be biopsy-proven (002).",
    "frontline-end-date": "Record when frontline therapy ended (end dates of the frontline "
                          "medications).",
    "mrd-end-of-reinduction": "Order a marrow MRD at the end of reinduction block 1 (day 29–36).",
    "cd19-status": "Flow cytometry of the relapse blasts for CD19.",
    "cd22-status": "Flow cytometry of the relapse blasts for CD22.",
    "genetics": "Panel sequencing and RNA fusion testing of the relapse sample (000).",
}


@dataclass
class Case:
    facts: PatientFacts
    as_of: date
    episodes: list[Episode]
    current: Episode | None
    refractory: bool
    population: Population
    diagnosis: FuzzyDate | None
    phenotype: str | None  # B / T / None
    site: SiteReading | None
    months: tuple[int, int] | None
    frontline: Frontline | None
    months_after_end: tuple[int, int] | None
    undated_relapse: bool  # a relapse recorded without a date, and no dated one
    bfm: BfmTiming | None = None
    cog_timing: set[str] = field(default_factory=set)
    hsct_before: date | None = None
    months_after_hsct: int | None = None
    car_t_before: date | None = None
    reinduction_start: date | None = None
    # an antileukaemic drug given since the relapse; left False for refractory disease without a
    # relapse date, where no rule reads it (a mutant changing this default is equivalent)
    reinduction_under_way: bool = False
    end_block_1: Mrd | None = None
    strata: dict[str, Result] = field(default_factory=dict)
    recommendations: list[Advice] = field(default_factory=list)
    warnings: list[Advice] = field(default_factory=list)
    missing: dict[str, Missing] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    index: FactIndex = field(init=False, repr=False)  # the facts by kind and by agent

    def __post_init__(self) -> None:
        self.index = FactIndex(self.facts)

    @property
    def number(self) -> int:
        """The relapse's number; a relapse recorded without a date counts when it is the only one
        (a problem-list status flip: FHIR_INPUT.md "Patterns real records use")."""
        return len(self.episodes) or (1 if self.undated_relapse else 0)

    @property
    def day(self) -> date | None:
        return self.current.day if self.current else None

    def warn(self, code: str, text: str, sources: list[str], severity: str = "warning", *,
             rests_on: Sequence[str] = (), refs: Sequence[str] = (),
             params: Mapping[str, object] | None = None) -> None:
        """One warning per code (CLINICAL_RULES §6): a second one for the same code adds its text,
        sources, facts, references and parameters, and the higher severity wins."""
        known = next((w for w in self.warnings if w.code == code), None)
        if known is None:
            self.warnings.append(Advice(code=code, text=text, sources=_check(sources),
                                        severity=Severity(severity), rests_on=list(rests_on),
                                        refs=list(refs), params=dict(params or {})))
            return
        if text not in known.text:
            known.text = f"{known.text} {text}"
        known.sources = list(dict.fromkeys([*known.sources, *_check(sources)]))
        known.rests_on = list(dict.fromkeys([*known.rests_on, *rests_on]))
        known.refs = list(dict.fromkeys([*known.refs, *refs]))
        known.params.update(params or {})
        known.severity = max(known.severity or Severity.INFO, Severity(severity),
                             key=lambda level: level.rank)

    def need(self, fact: str, affects: list[str], decides: str | None = None,
             how: str | None = None) -> None:
        known = self.missing.get(fact)
        if known is not None:
            merged = sorted(set(known.affects) | set(affects), key=(known.affects + affects).index)
            known.affects = merged
            if decides and decides not in (known.decides or ""):
                known.decides = f"{known.decides} | {decides}" if known.decides else decides
            return
        self.missing[fact] = Missing(fact=fact, affects=list(dict.fromkeys(affects)), how=how or HOW[fact],
                                     decides=decides)

    def cite(self, fact: str, value: object, refs: tuple[str, ...] | list[str] = (),
             note: str | None = None) -> None:
        self.evidence.append(Evidence(fact=fact, value=value, refs=list(dict.fromkeys(refs)),
                                      note=note))


def _check(sources: list[str]) -> list[str]:
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source {unknown}")
    return sources
