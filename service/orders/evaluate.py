"""Draft orders + the record → the §6 problems each draft raises, and the drafts not checked.

One engine run on the record with the drafts in it as planned therapy (``drafts.py``): the §6
rules of the advice tables decide; a problem concerns the drafts its warning cites.  A draft
medication whose drug the code maps do not know is reported as not checked, never passed as
safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from service.engine import assess
from service.extract import extract_facts
from service.facts import PatientFacts
from service.mapping import CodeMaps
from service.orders.checks import ORDER_CHECKS, OrderCheck
from service.orders.drafts import Draft, DraftOrders

# What a card calls an order (the code maps' agent or procedure kind), by the engine's names.
LABELS = {"blinatumomab": "Blinatumomab", "car-t-cd19": "CD19 CAR-T", "car-t-cd22": "CD22 CAR-T",
          "inotuzumab": "Inotuzumab", "nelarabine": "Nelarabine", "radiotherapy": "Radiotherapy",
          "car-t-infusion": "CAR-T infusion", "hsct-allogeneic": "Allogeneic HSCT"}


@dataclass(frozen=True)
class Problem:
    check: OrderCheck
    drafts: tuple[Draft, ...]
    warning: dict[str, Any]  # the engine's §6 warning (text, refs, rests_on, sources)


@dataclass
class OrderReview:
    assessment: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    unchecked: list[Draft] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # draft.read_as → what it orders


def review(record: list[dict[str, Any]], orders: DraftOrders, *, maps: CodeMaps, as_of: date,
           patient_id: str | None = None,
           full_urls: dict[str, dict[str, Any]] | None = None) -> OrderReview:
    urls = {**(full_urls or {}), **(orders.full_urls or {})}
    facts = extract_facts(orders.with_record(record), maps, as_of, patient_id, urls)
    assessment = assess(facts, as_of).to_json()
    found = OrderReview(assessment, labels=_labels(facts, orders.drafts))
    if not assessment.get("applicable"):  # no relapse to check against: nothing to say
        return found
    for warning in assessment.get("warnings", []):
        check = ORDER_CHECKS.get(warning.get("code", ""))
        concerned = orders.concerned(warning.get("refs", [])) if check else []
        if check and concerned:
            found.problems.append(Problem(check, tuple(concerned), warning))
    found.unchecked = [d for d in orders.shown() if d.entry["resourceType"] == "MedicationRequest"
                       and d.read_as not in found.labels]
    return found


def _labels(facts: PatientFacts, drafts: tuple[Draft, ...]) -> dict[str, str]:
    read = {d.read_as for d in drafts}
    labels = {}
    for t in facts.therapies:
        for ref in set(t.refs) & read:
            name = LABELS.get(t.agent, t.agent.replace("-", " ").capitalize())
            labels[ref] = f"Intrathecal {name.lower()}" if t.intrathecal else name
    for p in facts.procedures:
        for ref in set(p.refs) & read:
            regions = " and ".join(sorted(p.regions))
            name = LABELS.get(p.kind, p.kind.replace("-", " ").capitalize())
            labels[ref] = f"{name} ({regions})" if regions else name
    return labels
