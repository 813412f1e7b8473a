"""What the relapse view shows, worked out from the facts and the engine's case: the timeline's
events, the MRD values with their time points, the MRD thresholds of each scheme and the
end-block-1 window. Every item keeps the FHIR references it rests on; nothing is guessed (an item
without a date is listed as undated, never placed at a made-up date)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from service.engine.case import Case
from service.engine.mrd import END_BLOCK_1_DAYS, day_of
from service.engine.therapy import CAR_T_AGENTS
from service.facts import Mrd, PatientFacts

METHODS = {"flow": "flow cytometry", "pcr": "PCR (Ig/TCR)", "ngs": "NGS"}
PROCEDURES = {"hsct-allogeneic": ("hsct", "Allogeneic HSCT"),
              "hsct-autologous": ("hsct", "Autologous HSCT"),
              "car-t-infusion": ("car-t", "CAR-T infusion"),
              "radiotherapy": ("radiation", "Radiotherapy")}
BASELINE_LAST_DAY = 7  # an MRD on or before day 7 is the diagnostic baseline (FHIR_INPUT.md)


@dataclass(frozen=True)
class Event:
    """One thing on the timeline; ``end`` for a span (frontline therapy)."""

    kind: str  # diagnosis, frontline, relapse, reinduction, hsct, car-t, radiation
    label: str
    when: date | None
    detail: str = ""
    refs: tuple[str, ...] = ()
    end: date | None = None
    when_text: str = ""  # the date as recorded (a partial date stays partial)


@dataclass(frozen=True)
class Threshold:
    """An MRD cut-off, the schemes that use it and what it decides in each."""

    fraction: float
    label: str
    chart_label: str  # the label written on the line in the chart
    schemes: tuple[str, ...]
    uses: tuple[str, ...]


# CLINICAL_RULES §2.4–2.5: 10⁻³ = 0.1 %, 10⁻⁴ = 0.01 %.
THRESHOLDS = (
    Threshold(1e-3, "10⁻³ (0.1%)", "BFM 10⁻³ · COG 0.1%", ("BFM", "COG"),
              ("BFM S2: ≥ 10⁻³ after induction → HSCT, < 10⁻³ → chemotherapy (002)",
               "COG: end-of-block-1 MRD ≥ 0.1% in a late relapse → intermediate risk (000)")),
    Threshold(1e-4, "10⁻⁴ (0.01%)", "UK ALLR3 10⁻⁴ · I-BFM 10⁻⁴ · COG 0.01%",
              ("UK ALLR3", "I-BFM", "COG"),
              ("UK ALLR3 intermediate: ≥ 10⁻⁴ at end of induction → HSCT (001, 002)",
               "I-BFM standard: ≥ 10⁻⁴ after reinduction → HSCT (002)",
               "COG: ≥ 0.01% before HSCT → MRD-directed therapy first; MRD positive (000)")),
)


@dataclass(frozen=True)
class MrdPoint:
    when: date
    fraction: float
    comparator: str
    method: str
    refs: tuple[str, ...]
    time_point: str
    day: int | None  # day of reinduction, when a reinduction is known
    decides: bool  # the end-block-1 value the engine used

    @property
    def value_text(self) -> str:
        comparator = "" if self.comparator == "=" else self.comparator + " "
        return f"{comparator}{self.fraction * 100:.4g}%"

    @property
    def method_text(self) -> str:
        return METHODS.get(self.method, self.method)


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    reinduction_start: date
    from_therapy: bool  # False: reinduction start taken as the relapse date (no drug recorded)


@dataclass
class RelapseView:
    patient: str | None
    as_of: date
    assessment: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    undated: list[Event] = field(default_factory=list)
    mrd: list[MrdPoint] = field(default_factory=list)
    window: Window | None = None
    thresholds: tuple[Threshold, ...] = THRESHOLDS
    notes: list[str] = field(default_factory=list)  # why something is not shown


def build_view(facts: PatientFacts, case: Case | None, assessment: dict[str, Any],
               as_of: date) -> RelapseView:
    view = RelapseView(patient=facts.patient, as_of=as_of, assessment=assessment)
    events = _events(facts, case)
    view.events = sorted((e for e in events if e.when), key=lambda e: e.when or as_of)
    view.undated = [e for e in events if e.when is None]
    if case is not None and case.current is not None and case.reinduction_start is not None:
        low, high = END_BLOCK_1_DAYS
        start = case.reinduction_start
        view.window = Window(start + timedelta(days=low - 1), start + timedelta(days=high - 1),
                             start, case.reinduction_under_way)
    view.mrd = [_point(m, case, view.window) for m in sorted(facts.mrd, key=lambda m: m.when)]
    if not facts.mrd:
        view.notes.append("No marrow MRD result is recorded: the chart has no values.")
    if view.window is None:
        view.notes.append("No dated relapse: no reinduction, so no end-block-1 window is shown.")
    elif not view.window.from_therapy:
        view.notes.append("No antileukaemic medication is recorded since the relapse: the "
                          "end-block-1 window is counted from the relapse date.")
    return view


def _point(mrd: Mrd, case: Case | None, window: Window | None) -> MrdPoint:
    day = day_of(window.reinduction_start, mrd.when) if window else None
    decides = case is not None and case.end_block_1 == mrd
    relapse_day = case.current.day if case is not None and case.current is not None else None
    if relapse_day is not None and mrd.when < relapse_day:
        time_point = "before the relapse"
    elif day is None:
        time_point = "no relapse to place it against"
    elif decides:
        time_point = f"end of block 1 (day {day})"
    elif day <= BASELINE_LAST_DAY:
        time_point = f"relapse baseline (day {day})"
    elif day < END_BLOCK_1_DAYS[0]:
        time_point = f"during block 1 (day {day})"
    elif case is not None and case.end_block_1 is not None and mrd.when > case.end_block_1.when:
        time_point = f"after end of block 1, post-consolidation or pre-HSCT (day {day})"
    else:
        time_point = f"reinduction day {day}"
    return MrdPoint(mrd.when, mrd.fraction, mrd.comparator, mrd.method, mrd.refs, time_point,
                    day, decides)


def _events(facts: PatientFacts, case: Case | None) -> list[Event]:
    events: list[Event] = []
    if case is not None and case.diagnosis is not None:
        refs = tuple(r for d in facts.diagnoses for r in d.refs)
        events.append(Event("diagnosis", "Diagnosis of ALL", case.diagnosis.earliest,
                            refs=refs, when_text=case.diagnosis.text))
    events += _frontline(facts, case)
    events += _relapses(case)
    if case is not None and case.reinduction_start is not None and case.reinduction_under_way:
        drugs = sorted({t.agent for t in facts.therapies if t.start == case.reinduction_start
                        and t.antileukemic})
        refs = tuple(r for t in facts.therapies if t.start == case.reinduction_start
                     for r in t.refs)
        events.append(Event("reinduction", "Reinduction start", case.reinduction_start,
                            ", ".join(drugs), refs))
    for p in facts.procedures:
        if p.kind in PROCEDURES and p.status == "done":
            kind, label = PROCEDURES[p.kind]
            detail = ", ".join(sorted(p.regions))
            if p.dose_gy is not None:
                detail = f"{detail}, {p.dose_gy:g} Gy".lstrip(", ")
            events.append(Event(kind, label, p.when, detail, p.refs))
    for t in facts.therapies:
        if t.agent in CAR_T_AGENTS and t.status == "given":
            events.append(Event("car-t", "CAR-T product given", t.start, t.agent, t.refs))
    return events


def _frontline(facts: PatientFacts, case: Case | None) -> list[Event]:
    if case is None or case.frontline is None:
        return []
    first = case.episodes[0].day if case.episodes else None
    before = [t for t in facts.therapies if t.antileukemic and t.start and first
              and t.start < first and t.agent not in CAR_T_AGENTS and t.status != "planned"]
    start = min((t.start for t in before if t.start), default=None)
    front = case.frontline
    detail = front.reason
    return [Event("frontline", "Frontline therapy", start, detail, front.refs, end=front.end)]


def _relapses(case: Case | None) -> list[Event]:
    if case is None:
        return []
    events = []
    for number, episode in enumerate(case.episodes, start=1):
        if episode is case.current and case.site is not None:
            site = case.site.site
        else:
            site = "coded site: " + (", ".join(sorted(episode.coded_sites)) or "none recorded")
        events.append(Event("relapse", f"Relapse {number}", episode.day, site, episode.refs,
                            when_text=episode.onset.text))
    if case.undated_relapse:
        refs = tuple(r for rec in case.facts.relapses for r in rec.refs)
        events.append(Event("relapse", "Relapse (no date recorded)", None, "", refs))
    return events
