"""What the record says about therapy before a relapse: end of frontline therapy, HSCT, CAR-T
(FHIR_INPUT.md "End of frontline therapy", "Procedures")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from service.facts import PatientFacts, ProcedureFact, Therapy

CAR_T_AGENTS = {"car-t-cd19", "car-t-cd22"}


@dataclass(frozen=True)
class Frontline:
    """``on_therapy``: an antileukaemic drug was still running at the first relapse.
    ``end``: the last end date when all had ended before it.  Both None: unknown."""

    on_therapy: bool | None
    end: date | None
    refs: tuple[str, ...]
    reason: str


def frontline(facts: PatientFacts, first_relapse: date) -> Frontline:
    before = [t for t in facts.therapies
              if t.antileukemic and t.agent not in CAR_T_AGENTS and t.start is not None
              and t.start < first_relapse and t.status != "planned"]
    if not before:
        return Frontline(None, None, (), "no antileukaemic medication recorded before the relapse")
    running = [t for t in before if (t.end is None and t.status == "current")
               or (t.end is not None and t.end >= first_relapse)]
    if running:
        return Frontline(True, None, tuple(r for t in running for r in t.refs),
                         "an antileukaemic medication was still given at the relapse")
    refs = tuple(r for t in before for r in t.refs)
    ends = [t.end for t in before if t.end is not None]
    if len(ends) < len(before):
        return Frontline(None, None, refs, "a frontline medication has no end date")
    end = max(ends)
    return Frontline(False, end, refs, f"frontline therapy ended {end.isoformat()}")


def done_before(facts: PatientFacts, kind: str, day: date) -> list[ProcedureFact]:
    return sorted((p for p in facts.procedures
                   if p.kind == kind and p.status == "done" and p.when is not None and p.when < day),
                  key=lambda p: p.when or day)


def car_t_before(facts: PatientFacts, day: date) -> list[tuple[date, tuple[str, ...]]]:
    """CAR-T infusions (procedures or CAR-T products given) before ``day``: (date, refs)."""
    found = [(p.when, p.refs) for p in done_before(facts, "car-t-infusion", day) if p.when]
    found += [(t.start, t.refs) for t in facts.therapies
              if t.agent in CAR_T_AGENTS and t.status == "given" and t.start and t.start < day]
    return sorted(found)


def agents(facts: PatientFacts, *statuses: str) -> dict[str, list[Therapy]]:
    """Therapies by agent, limited to the given statuses."""
    found: dict[str, list[Therapy]] = {}
    for t in facts.therapies:
        if t.status in statuses:
            found.setdefault(t.agent, []).append(t)
    return found
