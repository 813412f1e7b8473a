"""Relapse episodes: which relapse is assessed, its number, and what came before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from service.facts import FuzzyDate, PatientFacts, RelapseRecord

# Relapse Conditions whose onsets lie within this many days are one relapse recorded twice (a
# marrow and a CSF date, an ICD-10 and a SNOMED entry).  FHIR_INPUT.md counts "each distinct
# relapse date" as one relapse; taken literally, a duplicate entry a few days apart would turn a
# first relapse into a second and switch every scheme off.  A true second relapse needs a
# remission in between, which takes longer than this.
SAME_EPISODE_DAYS = 28


@dataclass
class Episode:
    onset: FuzzyDate
    records: list[RelapseRecord] = field(default_factory=list)

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(r for rec in self.records for r in rec.refs)

    @property
    def coded_sites(self) -> frozenset[str]:
        return frozenset(s for rec in self.records for s in rec.coded_sites)

    @property
    def day(self) -> date:
        return self.onset.earliest


def relapse_episodes(facts: PatientFacts) -> list[Episode]:
    """Dated relapses grouped into episodes, oldest first."""
    dated = sorted((r for r in facts.relapses if r.onset), key=lambda r: r.onset.earliest)  # type: ignore[union-attr]
    episodes: list[Episode] = []
    for rec in dated:
        assert rec.onset is not None
        if episodes and (rec.onset.earliest - episodes[-1].onset.latest).days <= SAME_EPISODE_DAYS:
            episodes[-1].records.append(rec)
            if rec.onset.exact and not episodes[-1].onset.exact:
                episodes[-1].onset = rec.onset
        else:
            episodes.append(Episode(onset=rec.onset, records=[rec]))
    return episodes
