"""The advice tables as a document a clinician reviews side by side with the seed figures.

    python -m service.engine.advice.document > docs/ADVICE_RULES.md

A test keeps ``docs/ADVICE_RULES.md`` equal to what this prints, so the document is the code.
"""

from __future__ import annotations

from service.engine.advice import ALL_TABLES, FOLLOW_ON, TREATMENT
from service.engine.advice.catalogue import CATALOGUE
from service.engine.advice.coherence import B_LINEAGE_ONLY, NEVER_TOGETHER
from service.engine.advice.rules import Table, Value


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _params(params: dict[str, object]) -> str:
    return ", ".join(f"{k} = {v.name if isinstance(v, Value) else v}" for k, v in params.items())


def _table(table: Table) -> list[str]:
    lines = [f"### {table.name} ({table.source})", "", f"> {table.says}", ""]
    if table.rules:
        lines += ["| code | when (all hold) | why | sources | rests on | parameters |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| `{r.code}`{' (' + r.severity + ')' if r.severity else ''} | "
                  f"{_cell('; '.join(map(str, r.when)))} | {_cell(r.because)} | "
                  f"{', '.join(r.sources)} | {', '.join(r.rests_on)} | {_cell(_params(dict(r.params)))} |"
                  for r in table.rules]
        lines.append("")
    for e in table.exclusions:
        lines.append(f"- **Excludes** {', '.join(f'`{c}`' for c in e.excludes)} when "
                     f"{'; '.join(map(str, e.when))}: {e.because}.")
    for n in table.needs:
        lines.append(f"- **Asks for** `{n.fact}` when {'; '.join(map(str, n.when))}"
                     + (f": {n.decides}." if n.decides else "."))
    for note in table.notes:
        lines.append(f"- **Note** when {'; '.join(map(str, note.when))}: {note.text}")
    return [*lines, ""] if table.exclusions or table.needs or table.notes else lines


def document() -> str:
    stage = {t.name: "1 treatment" for t in TREATMENT} | {t.name: "2 follow-on" for t in FOLLOW_ON}
    lines = [
        "# Advice rules (generated from `service/engine/advice/`; do not edit)", "",
        "Each row is one rule: the code it gives, the conditions that must all hold, why, and "
        "the seeds it rests on. Stage 1 (treatment) rules run first, stage 2 (follow-on) reads "
        "their recommendations, stage 3 (warnings, including every row with a severity) reads "
        "both. A lineage or COG timing the record leaves open is evaluated for each value; advice "
        "that differs is reported as depending on the missing fact.", "",
        "## What each code says", "", "| code | kind | text | excludes |", "|---|---|---|---|",
        *(f"| `{e.code}` | {e.kind} | {_cell(e.text)} | {', '.join(e.excludes)} |"
          for e in CATALOGUE.values()),
        "", "## Never together (checked on every assessment)", "",
        *(f"- {', '.join(n.first)} ✗ {', '.join(n.second)}: {n.because}." for n in NEVER_TOGETHER),
        f"- {', '.join(B_LINEAGE_ONLY)}: only when the lineage is known to be B.", "",
        "## Tables", "",
    ]
    for table in ALL_TABLES:
        lines.append(f"<!-- stage: {stage.get(table.name, '3 warnings')} -->")
        lines += _table(table)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(document(), end="")
