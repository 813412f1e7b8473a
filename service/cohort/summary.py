"""What the cohort report counts in one assessment, and counts that add up across workers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from service.extract import INVALID_FHIR


@dataclass
class Tally:
    """Counts by section (``population``, ``site``, ``group.bfm``, …) and value."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def count(self, section: str, value: object, n: int = 1) -> None:
        self.counts.setdefault(section, Counter())[str(value)] += n

    def add(self, other: Tally) -> None:
        for section, counter in other.counts.items():
            self.counts.setdefault(section, Counter()).update(counter)


def groups(assessment: dict[str, Any]) -> dict[str, str]:
    """Each scheme's group (or ``not-applicable``); empty when the assessment is not applicable."""
    strata = assessment.get("strata") or {}
    return {scheme: str(value.get("group") if isinstance(value, dict) else value)
            for scheme, value in strata.items()}


def tally(assessment: dict[str, Any]) -> Tally:
    """The counts one patient's assessment adds to the report."""
    found = Tally()
    applicable = bool(assessment.get("applicable"))
    found.count("patients", "applicable" if applicable else "not applicable")
    problems = assessment.get("problems") or []
    invalid = sum(str(p.get("problem", "")).startswith(INVALID_FHIR) for p in problems)
    if problems:
        found.count("record problems", "patients with data that could not be used")
    if invalid:
        found.count("record problems", "resources not valid FHIR", invalid)
    if not applicable:
        return found
    relapse = assessment.get("relapse") or {}
    found.count("population", assessment.get("population", "indeterminate"))
    found.count("site", relapse.get("site", "indeterminate"))
    found.count("immunophenotype", relapse.get("immunophenotype", "indeterminate"))
    for scheme, value in (relapse.get("timing") or {}).items():
        if scheme in ("cog", "bfm"):
            found.count(f"timing.{scheme}", value)
    for scheme, group in groups(assessment).items():
        found.count(f"group.{scheme}", group)
    for warning in assessment.get("warnings") or []:
        if str(warning.get("code", "")).endswith("discordance"):
            found.count("discordances", warning["code"])
    for missing in assessment.get("missing") or []:
        found.count("missing facts", missing.get("fact"))
    return found
