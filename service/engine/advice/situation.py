"""What the advice rules read: the case, reduced to the facts the tables ask about.

Computed once per assessment from the case (FHIR_INPUT.md time points; CLINICAL_RULES §1.5,
§4, §6).  Lineage and COG timing are kept as single values: when the record leaves them open,
the advice is evaluated once per possible value (``variants``) and what differs is reported as
depending on the missing fact (CLINICAL_RULES §1.4a applied to advice).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from itertools import product

from service.engine.advice.conditions import ADVERSE, HSCT_REGARDLESS_OF_MRD
from service.engine.case import Case
from service.engine.dates import months_between
from service.engine.index import FactIndex
from service.engine.mrd import AT_OR_ABOVE, END_BLOCK_1_DAYS, MRD_POSITIVE_FROM, compare, day_of
from service.engine.population import ADULT_FROM_YEARS
from service.engine.schemes import cog
from service.engine.site import M3_ABOVE, SiteReading
from service.engine.therapy import CAR_T_AGENTS
from service.engine.window import AT_RELAPSE_DAYS
from service.facts import Mrd, Therapy

BLINATUMOMAB_CYCLES = 2  # two 28-day cycles after reinduction (000 Figure 1A)
CAR_T_WATCH_MONTHS = 6  # MRD recurrence or B-cell recovery within 6 months of CAR-T → HSCT (000)
CONCOMITANT_DAYS = 14  # §6: an intrathecal dose within 14 days of a nelarabine dose
PRIOR_CRANIAL_LIMIT_GY = 20.0  # prior cranial irradiation > 20 Gy → 15 Gy (001)
LOOK_BACK_DAYS = 30  # CD3 / lymphocyte counts read within 30 days of the relapse
BASELINE_LAST_DAY = 7  # an MRD on or before day 7 of reinduction is the diagnostic baseline


# The values rule texts and parameters may name, and the groups of references rules may cite.
VALUE_NAMES = ("blinatumomab_cycles_due", "pre_hsct_agents", "mrd_after_reinduction", "cd3_count",
               "months_after_hsct", "population_notes", "adverse_genetics", "hsct_genetics")
REF_GROUPS = ("site", "end-block-1", "mrd-after-reinduction", "genetics", "adverse-genetics",
              "hsct-genetics", "blinatumomab-orders", "cd19-directed-orders", "inotuzumab",
              "cd3-count", "nelarabine-intrathecal", "prior-cranial", "car-t-failure",
              "hsct-planned", "car-t-orders")


class Values(dict[str, object]):
    """A value the record does not give reads as "not recorded", never as an error."""

    def __missing__(self, key: str) -> str:
        return "not recorded"


@dataclass(frozen=True)
class Situation:
    population: str  # pediatric / aya / adult / indeterminate
    number: int  # relapse number; 0 for primary refractory disease
    primary_refractory: bool
    phenotype: str | None  # B / T (one value per variant)
    cog_timing: str | None  # early / late (one value per variant; None: no relapse)
    categories: frozenset[str]  # scheme site categories still possible (BM, COMB, IEM)
    site_unconfirmed: bool
    site_actions: tuple[str, ...]
    extramedullary: tuple[str, ...]
    cns_unknown: bool  # no CSF result that calls the CNS status at this relapse
    reinduction_under_way: bool
    refractory_to_reinduction: bool
    end_block_1_vs_cog_cutoff: str | None  # below / at-or-above 0.1 %; None unknown
    end_block_1_positive: bool | None  # vs 0.01 %
    mrd_after_reinduction_positive: bool | None  # end-block-1 MRD, else the latest since
    latest_mrd_positive: bool | None  # the latest MRD since reinduction began
    blinatumomab_cycles_given: int
    cd19: bool | None
    cd22: bool | None
    after_hsct: bool
    months_after_hsct: int | None
    after_car_t: bool
    car_t_for_this_relapse: bool
    car_t_failing: bool  # MRD recurrence or B-cell recovery within 6 months of it
    hsct_planned: bool
    pre_hsct_mrd_positive: bool
    genetics: frozenset[str]
    genetics_tested: bool
    ph_positive: bool
    months_from_diagnosis_above_12: bool | None
    cd3_above_threshold: bool
    record: dict[str, frozenset[str]]  # agent → statuses in the record (given/current/planned)
    nelarabine_intrathecal_concomitant: bool
    intrathecal_in_record: bool  # current or planned, or given within the window of today
    prior_cranial_over_limit: bool
    cns_radiation_planned: bool
    outside_trials: bool
    values: Values = field(default_factory=Values)
    refs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    recommended: frozenset[str] = frozenset()  # filled between the stages

    def has(self, agent: str, *statuses: str) -> bool:
        found = self.record.get(agent)
        return found is not None and not found.isdisjoint(statuses or ("given", "current", "planned"))

    def recommends(self, *codes: str) -> bool:
        return not self.recommended.isdisjoint(codes)


_FIELDS = frozenset(f.name for f in fields(Situation))


def updated(s: Situation, **changes: object) -> Situation:
    """``dataclasses.replace(s, **changes)`` without running ``__init__`` again over all forty
    fields (the situation is copied three times per variant): a situation has no ``__post_init__``
    and no field computed from another, so a copy of its attributes with the changes is the same
    object ``replace`` would build (a test compares the two)."""
    unknown = changes.keys() - _FIELDS
    if unknown:
        raise TypeError(f"Situation has no fields {sorted(unknown)}")
    if all(s.__dict__[name] is value for name, value in changes.items()):
        return s  # nothing changes (a record that leaves nothing open: one variant, the case's)
    copy = object.__new__(Situation)
    copy.__dict__.update(s.__dict__, **changes)
    return copy


def variants(s: Situation, phenotypes: tuple[str, ...],
             timings: tuple[str | None, ...]) -> list[Situation]:
    return [updated(s, phenotype=p, cog_timing=t) for p, t in product(phenotypes, timings)]


def situation(case: Case) -> Situation:
    facts = case.facts
    day = case.day
    refs: dict[str, tuple[str, ...]] = {}
    values = Values()
    site = case.site
    if site is not None:
        refs["site"] = tuple(site.refs)

    after_reinduction = _latest_mrd_after(case, case.reinduction_start)
    end_block_1 = case.end_block_1
    if end_block_1 is not None:
        refs["end-block-1"] = end_block_1.refs
    hsct_planned = any(p.kind == "hsct-allogeneic" and p.status == "planned"
                       for p in facts.procedures)
    pre_hsct_positive = bool(hsct_planned and _positive(after_reinduction))
    if after_reinduction is not None:
        refs["mrd-after-reinduction"] = after_reinduction.refs
        values["mrd_after_reinduction"] = f"{after_reinduction.fraction * 100:.3g}%"

    # read only by rules that hold while fewer than 2 cycles were given: never below 1
    cycles_given = _blinatumomab_cycles(case)
    values["blinatumomab_cycles_due"] = BLINATUMOMAB_CYCLES - cycles_given
    cd19, cd22 = _cd_status(case, "cd19"), _cd_status(case, "cd22")
    values["pre_hsct_agents"] = "blinatumomab or inotuzumab" if cd19 is not False else "inotuzumab"

    genetics: dict[str, list[str]] = {}
    for g in facts.genetics:
        genetics.setdefault(g.finding, []).extend(g.refs)
    for d in facts.diagnoses:
        for name in d.genetics:
            genetics.setdefault(name, []).extend(d.refs)
    for name, found in genetics.items():
        refs[f"genetics:{name}"] = tuple(dict.fromkeys(found))
    for group, names in (("adverse", ADVERSE), ("hsct", HSCT_REGARDLESS_OF_MRD)):
        present = [n for n in names if n in genetics]
        values[f"{group}_genetics"] = ", ".join(present)
        refs[f"{group}-genetics"] = tuple(r for n in present for r in refs[f"genetics:{n}"])

    index = case.index
    record: dict[str, frozenset[str]] = {
        agent: frozenset([t.status for t in given]) for agent, given in index.therapies.items()}
    for p in facts.procedures:
        if p.kind == "car-t-infusion":
            status = "given" if p.status == "done" else "planned"
            record["car-t-cd19"] = record.get("car-t-cd19", frozenset()) | {status}
    refs["blinatumomab-orders"] = _therapy_refs(index, "blinatumomab", "current", "planned")
    # a CAR-T infusion Procedure not yet done is a CD19 CAR-T order (as in ``record`` above)
    refs["car-t-orders"] = (*_therapy_refs(index, "car-t-cd19", "current", "planned"),
                            *(r for p in facts.procedures if p.kind == "car-t-infusion"
                              and p.status == "planned" for r in p.refs))
    refs["cd19-directed-orders"] = (*refs["blinatumomab-orders"], *refs["car-t-orders"])
    refs["hsct-planned"] = tuple(r for p in facts.procedures if p.kind == "hsct-allogeneic"
                                 and p.status == "planned" for r in p.refs)
    refs["inotuzumab"] = _therapy_refs(index, "inotuzumab", "given", "current", "planned")

    cd3 = case.index.measurement("cd3-count", day, days=LOOK_BACK_DAYS) if day else None
    if cd3 is not None:
        refs["cd3-count"] = cd3.refs
        values["cd3_count"] = f"{cd3.value:g}"

    concomitant, pair_refs = _nelarabine_intrathecal(case)
    refs["nelarabine-intrathecal"] = pair_refs
    # a dose not recorded reads as 0 Gy: not over the limit (any default ≤ 20 Gy reads the same)
    prior = [p for p in facts.procedures if p.kind == "radiotherapy" and p.status == "done"
             and p.regions & {"cranial", "spinal", "tbi"} and (p.dose_gy or 0) > PRIOR_CRANIAL_LIMIT_GY]
    planned_cns = [p for p in facts.procedures if p.kind == "radiotherapy" and p.status == "planned"
                   and p.regions & {"cranial", "spinal"}]
    refs["prior-cranial"] = tuple(r for p in prior + planned_cns for r in p.refs)

    infused, failing, failure_refs = _car_t_for_this_relapse(case)
    refs["car-t-failure"] = failure_refs
    if case.months_after_hsct is not None:
        values["months_after_hsct"] = case.months_after_hsct
    if case.population.notes:
        values["population_notes"] = "; ".join(case.population.notes)

    return Situation(
        population=_advice_population(case),
        number=case.number,
        primary_refractory=case.refractory,
        phenotype=case.phenotype,
        cog_timing=next(iter(case.cog_timing)) if len(case.cog_timing) == 1 else None,
        categories=site.categories if site else frozenset(),
        site_unconfirmed=bool(site and site.unconfirmed),
        site_actions=tuple(site.actions) if site else (),
        extramedullary=tuple(site.extramedullary) if site else (),
        cns_unknown=_cns_unknown(site),
        reinduction_under_way=case.reinduction_under_way,
        refractory_to_reinduction=_refractory_to_reinduction(case),
        end_block_1_vs_cog_cutoff=compare(end_block_1, cog.MRD_CUTOFF) if end_block_1 else None,
        end_block_1_positive=_positive(end_block_1),
        mrd_after_reinduction_positive=_positive(end_block_1 or after_reinduction),
        latest_mrd_positive=_positive(after_reinduction),
        blinatumomab_cycles_given=cycles_given,
        cd19=cd19, cd22=cd22,
        after_hsct=case.hsct_before is not None,
        months_after_hsct=case.months_after_hsct,
        after_car_t=case.car_t_before is not None,
        car_t_for_this_relapse=infused,
        car_t_failing=failing,
        hsct_planned=hsct_planned,
        pre_hsct_mrd_positive=pre_hsct_positive,
        genetics=frozenset(genetics),
        genetics_tested="genetic-test" in index.findings,
        ph_positive="BCR-ABL1" in genetics or any(d.ph_positive for d in facts.diagnoses),
        months_from_diagnosis_above_12=(case.months[0] > 12 if case.months else None),
        cd3_above_threshold=cd3 is not None and cd3.value > 200,
        record=record,
        nelarabine_intrathecal_concomitant=concomitant,
        intrathecal_in_record=_intrathecal_in_record(case),
        prior_cranial_over_limit=bool(prior),
        cns_radiation_planned=bool(planned_cns),
        outside_trials=bool(case.population.notes),
        values=values,
        refs=refs,
    )


def _cns_unknown(site: SiteReading | None) -> bool:
    """No result calls the CNS status at this relapse: no CSF read (a coded bodySite without CNS
    does not show the CSF is clear), or a tap that cannot be called; CNS disease found is known."""
    if site is None:
        return True
    if "cns" in site.extramedullary:
        return False
    return "csf-findings" in site.missing or "repeat-lumbar-puncture" in site.actions


def _advice_population(case: Case) -> str:
    """The population the advice follows.  Age at diagnosis decides pediatric (§3) or adult (§5)
    advice; the relapse age only splits ``aya`` from ``adult``, which the advice treats alike.  So
    a known age ≥ 18 at diagnosis is adult advice even when the population is indeterminate (no
    relapse date: primary refractory disease), never the "age unknown" pediatric reading."""
    pop = case.population
    if pop.name == "indeterminate" and pop.age_at_diagnosis is not None \
            and pop.age_at_diagnosis >= ADULT_FROM_YEARS:
        return "adult"
    return pop.name


def _positive(mrd: Mrd | None) -> bool | None:
    """≥ 0.01 % (10⁻⁴) is MRD-positive (002 Table 2); None when the value cannot tell."""
    side = compare(mrd, MRD_POSITIVE_FROM) if mrd else None
    return None if side is None else side == AT_OR_ABOVE


def _latest_mrd_after(case: Case, start: date | None) -> Mrd | None:
    """The latest MRD of the response to relapse therapy: after day 7 of reinduction (an MRD on
    or before day 7 is the diagnostic baseline, FHIR_INPUT.md "Time points of response")."""
    later = [m for m in case.facts.mrd if start is not None and day_of(start, m.when) > BASELINE_LAST_DAY]
    return max(later, key=lambda m: m.when) if later else None


def _refractory_to_reinduction(case: Case) -> bool:
    """Primary refractory disease, or an M3 marrow on day 22–49 of reinduction (000 Figure 1A)."""
    if case.refractory:
        return True
    # reinduction_start is None only without a dated relapse, where nothing is under way
    if not case.reinduction_under_way or case.reinduction_start is None:
        return False
    first, last = END_BLOCK_1_DAYS
    start = case.reinduction_start
    # the earliest in the window (of one day, the first in the record: ``min`` keeps it)
    m3 = min((m for m in case.index.measurements.get("marrow-blasts", ())
              if first <= day_of(start, m.when) <= last), key=lambda m: m.when, default=None)
    return m3 is not None and m3.value > M3_ABOVE


def _cd_status(case: Case, kind: str) -> bool | None:
    """CD19/CD22 on the blasts of this relapse: the latest result from 14 days before it on."""
    start = case.day
    latest = None  # of one day, the last in the record (as the last of a stable sort)
    for f in case.index.findings.get(kind, ()):
        if (start is None or (f.when - start).days >= -AT_RELAPSE_DAYS) and (
                latest is None or f.when >= latest.when):
            latest = f
    return latest.positive if latest else None


def _blinatumomab_cycles(case: Case) -> int:
    day = case.day
    return sum(1 for t in case.index.agent("blinatumomab") if t.status == "given"
               and day is not None and t.start is not None and t.start >= day)


def _therapy_refs(index: FactIndex, agent: str, *statuses: str) -> tuple[str, ...]:
    return tuple(r for t in index.agent(agent) if t.status in statuses for r in t.refs)


def _span(t: Therapy) -> tuple[date, date] | None:
    if t.start is None:
        return None
    return t.start, t.end or t.start


def _nelarabine_intrathecal(case: Case) -> tuple[bool, tuple[str, ...]]:
    """§6 "concomitant": an intrathecal dose given, active or planned within 14 days before or
    after a nelarabine dose given, active or planned, or both in the current reinduction block.
    An undated order cannot be placed in time (FHIR_INPUT.md): two undated current or planned
    orders are read as the same block."""
    nelarabine = case.index.agent("nelarabine")
    intrathecal = [t for t in case.index.intrathecal if t.agent != "nelarabine"]
    block_start = case.reinduction_start
    window = timedelta(days=CONCOMITANT_DAYS)
    found: list[str] = []  # every concomitant pair: each order involved is cited
    for n, i in product(nelarabine, intrathecal):
        a, b = _span(n), _span(i)
        if a is None or b is None:
            together = a is None and b is None and {n.status, i.status} <= {"current", "planned"}
        else:
            near = b[0] <= a[1] + window and a[0] <= b[1] + window
            in_block = block_start is not None and all(
                block_start <= s[0] and day_of(block_start, s[0]) <= END_BLOCK_1_DAYS[1]
                for s in (a, b))
            together = near or in_block
        if together:
            found += [*n.refs, *i.refs]
    return bool(found), tuple(dict.fromkeys(found))


def _intrathecal_in_record(case: Case) -> bool:
    window = timedelta(days=CONCOMITANT_DAYS)
    return any(t.status in ("current", "planned") or (
        t.start is not None and (t.end or t.start) + window >= case.as_of)
        for t in case.index.intrathecal)


def _car_t_for_this_relapse(case: Case) -> tuple[bool, bool, tuple[str, ...]]:
    """CAR-T given for this relapse; and whether MRD recurred or B cells recovered within 6
    months of it (000 authors' practice: an indication for a (second) HSCT).  "Failing" is read
    only together with "infused" (conditions.py), so its value when nothing was infused is moot."""
    day = case.day
    if day is None:
        return False, False, ()
    facts = case.facts
    infusions = [p.when for p in facts.procedures if p.kind == "car-t-infusion"
                 and p.status == "done" and p.when and p.when >= day]
    # (only the latest is read: the order the agents are taken in does not matter)
    infusions += [t.start for agent in CAR_T_AGENTS for t in case.index.agent(agent)
                  if t.status == "given" and t.start and t.start >= day]
    if not infusions:
        return False, False, ()
    infused = max(d for d in infusions if d is not None)
    recovery = [f for f in facts.findings if f.kind == "b-cell-recovery" and f.positive
                and f.when >= infused and months_between(infused, f.when) < CAR_T_WATCH_MONTHS]
    relapsing = [m for m in facts.mrd if m.when > infused and _positive(m)
                 and months_between(infused, m.when) < CAR_T_WATCH_MONTHS]
    failure = [*recovery, *relapsing]
    return True, bool(failure), tuple(r for f in failure for r in f.refs)
