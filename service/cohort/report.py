"""The cohort report (JSON): counts by population, site, timing, each scheme's group,
discordances, missing facts, and the data problems met, by file and line."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from service.cohort.run import Outcome

SCHEMA = "relapsed-all-cohort-report/1"


def _sorted(counter: Counter[str] | None) -> dict[str, int]:
    return dict(sorted((counter or Counter()).items(), key=lambda kv: (-kv[1], kv[0])))


def _sections(outcome: Outcome, prefix: str) -> dict[str, dict[str, int]]:
    return {section.removeprefix(prefix): _sorted(counter)
            for section, counter in sorted(outcome.tally.counts.items())
            if section.startswith(prefix)}


def data_problems(outcome: Outcome) -> dict[str, Any]:
    names = {f.index: f.name for f in outcome.files}
    split = outcome.split
    return {
        "bad_lines": sum(split.problems.values()),
        "by_file": [{"file": names[file], "problem": problem, "count": count}
                    for (file, problem), count in sorted(split.problems.items())],
        "lines": [{"file": names[file], "line": line, "problem": problem}
                  for file, line, problem in sorted(split.examples)],
        "export": outcome.export_problems,
        "records": _sorted(outcome.tally.counts.get("record problems")),
    }


def bad_data(outcome: Outcome) -> int:
    """Bad lines, missing files and resources that are not valid FHIR: the run reports failure
    when any."""
    invalid = outcome.tally.counts.get("record problems", Counter())["resources not valid FHIR"]
    return sum(outcome.split.problems.values()) + len(outcome.export_problems) + invalid


def build(outcome: Outcome, as_of: date, since: str | None,
          changes: list[dict[str, Any]] | None, compared_with: str | None) -> dict[str, Any]:
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "as_of": as_of.isoformat(),
        **({"since": since} if since else {}),
        "export": {"files": [f.name for f in outcome.files],
                   "resources": _sorted(outcome.split.by_type)},
        "patients": outcome.patients,
        "applicable": _sorted(outcome.tally.counts.get("patients")),
        "population": _sorted(outcome.tally.counts.get("population")),
        "site": _sorted(outcome.tally.counts.get("site")),
        "immunophenotype": _sorted(outcome.tally.counts.get("immunophenotype")),
        "timing": _sections(outcome, "timing."),
        "groups": _sections(outcome, "group."),
        "discordances": _sorted(outcome.tally.counts.get("discordances")),
        "missing_facts": _sorted(outcome.tally.counts.get("missing facts")),
        "data_problems": data_problems(outcome),
    }
    if compared_with is not None:
        report["compare"] = {"other": compared_with, "changed": len(changes or []),
                             "patients": changes or []}
    return report
