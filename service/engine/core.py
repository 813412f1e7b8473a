"""Facts → case → assessment: relapse, population, site, timing and the four schemes
(CLINICAL_RULES §1–§2).  Treatment rules (§3–§6) live in ``service.engine.advice``."""

from __future__ import annotations

from datetime import date

from service.assessment import FirstRelapse, NotApplicable, Problem, Relapse, Stratum, Timing
from service.engine import stratify
from service.engine.case import Case
from service.engine.dates import exact, month_range, months_between
from service.engine.episodes import Episode, relapse_episodes
from service.engine.mrd import AT_OR_ABOVE, BELOW, compare, end_block_1, reinduction_start
from service.engine.population import population
from service.engine.schemes import SCHEME_IDS, SCHEMES, cog
from service.engine.schemes.registry import Scheme
from service.engine.site import BM, COMB, IEM, read_site
from service.engine.stratify import Dimension, Inputs
from service.engine.therapy import car_t_before, done_before, frontline
from service.engine.timing import bfm_timing, cog_timing, family
from service.facts import FuzzyDate, PatientFacts
from service.vocabulary import BfmTiming, CogTiming, Phenotype, Site

BFM_ORDER = ("very-early", "early", "late")


def _diagnosis_date(facts: PatientFacts, case_problems: list[Problem],
                    first_relapse: FuzzyDate | None) -> tuple[FuzzyDate | None, tuple[str, ...], bool]:
    dated = sorted((d for d in facts.diagnoses if d.onset), key=lambda d: d.onset.earliest)  # type: ignore[union-attr]
    if not dated:  # (the flag is read only with a date: True here would change nothing)
        return None, (), False
    first = dated[0]
    assert first.onset is not None
    if first_relapse is not None and first.onset.earliest > first_relapse.latest:
        case_problems.append(Problem(ref=(first.refs or ('Condition',))[0], problem=(
            "the ALL diagnosis is dated after the relapse; the diagnosis date is treated as missing")))
        return None, first.refs, False
    return first.onset, first.refs, first.date_from_recorded


def _phenotype(case: Case) -> str | None:
    facts = case.facts
    at_diagnosis = {d.lineage for d in facts.diagnoses if d.lineage}
    at_relapse = {r.lineage for r in (case.current.records if case.current else []) if r.lineage}
    refs = [r for d in facts.diagnoses if d.lineage for r in d.refs]
    if len(at_diagnosis) > 1:
        case.warn("data-conflict", "The record codes both B- and T-lineage ALL at diagnosis; the "
                  "immunophenotype is treated as unknown.", ["002"], rests_on=["immunophenotype"],
                  refs=refs)
        at_diagnosis = set()
    if len(at_relapse) == 1 and at_diagnosis and at_relapse != at_diagnosis:
        case.warn("lineage-switch", f"Lineage at relapse ({next(iter(at_relapse))}) differs from "
                  f"diagnosis ({next(iter(at_diagnosis))}): confirm by flow cytometry; the relapse "
                  "lineage is used.", ["002"], rests_on=["immunophenotype"], refs=refs)
        return next(iter(at_relapse))
    lineage = at_diagnosis or at_relapse
    if len(lineage) == 1:
        value = next(iter(lineage))
        case.cite("immunophenotype", value, refs or [r for rec in case.current.records if rec.lineage
                                                      for r in rec.refs] if case.current else refs)
        return value
    return None


def build_case(facts: PatientFacts, as_of: date, problems: list[Problem]) -> Case | None:
    episodes = relapse_episodes(facts)
    undated_relapse = any(r.onset is None for r in facts.relapses)
    if not episodes and not facts.refractory and not undated_relapse:
        return None
    current = episodes[-1] if episodes else None
    first_onset = episodes[0].onset if episodes else None
    diagnosis, dx_refs, from_recorded = _diagnosis_date(facts, problems, first_onset)
    birth = facts.birth_date
    events = [d.earliest for d in (diagnosis, first_onset) if d is not None]
    if birth is not None and events and birth.latest > min(events):
        problems.append(Problem(ref=facts.patient or "Patient", problem=(
            "the birth date is after the diagnosis or relapse; it is treated as missing")))
        birth = None
    pop = population(birth, diagnosis, current.onset if current else None)
    case = Case(facts=facts, as_of=as_of, episodes=episodes, current=current,
                refractory=bool(facts.refractory) and not episodes, population=pop,
                undated_relapse=undated_relapse and not episodes,
                diagnosis=diagnosis, phenotype=None, site=None, months=None, frontline=None,
                months_after_end=None)
    if diagnosis is not None:
        case.cite("diagnosis-date", diagnosis.text, dx_refs,
                  "from recordedDate (no onset recorded)" if from_recorded else None)
    if birth is not None:
        case.cite("birth-date", birth.text, [facts.patient or "Patient"])
    case.phenotype = _phenotype(case)
    if current is None:
        return case
    case.cite("relapse-date", current.onset.text, current.refs, f"relapse number {len(episodes)}")
    case.site = read_site(facts, current, case.index)
    if diagnosis is not None:
        case.months = month_range(diagnosis, current.onset)
    _first_relapse_timing(case, facts, episodes[0])
    hsct = done_before(facts, "hsct-allogeneic", current.day)
    if hsct:
        last = hsct[-1]  # the latest transplant before this relapse
        assert last.when is not None  # done_before keeps dated procedures only
        case.hsct_before = last.when
        case.months_after_hsct = months_between(last.when, current.day)
        case.cite("hsct", last.when.isoformat(), last.refs)
    car_t = car_t_before(facts, current.day)
    if car_t:
        case.car_t_before = max(when for when, _ in car_t)
        case.cite("car-t", case.car_t_before.isoformat(), [r for _, refs in car_t for r in refs])
    case.reinduction_start, first_drugs = reinduction_start(facts, current.day)
    case.reinduction_under_way = bool(first_drugs)
    case.end_block_1 = end_block_1(facts, case.reinduction_start)
    return case


def _first_relapse_timing(case: Case, facts: PatientFacts, first: Episode) -> None:
    """Timing in both families is defined for the first relapse (§1.2, §1.6): for a later relapse
    it is computed for the first one and reported only labelled as the first relapse's."""
    first_months = month_range(case.diagnosis, first.onset) if case.diagnosis else None
    case.frontline = frontline(facts, first.day)
    end = case.frontline.end
    if end is not None:  # month_range from a day known exactly
        case.months_after_end = (months_between(end, first.onset.earliest),
                                 months_between(end, first.onset.latest))
    case.bfm = bfm_timing(first_months, case.months_after_end, case.frontline)
    # the first relapse's site: already read when it is the current one (reading it again would
    # give the same answer, so a mutant of this test is equivalent; it saves a second reading)
    first_site = (case.site if first is case.current and case.site
                  else read_site(facts, first, case.index))
    categories = first_site.categories or frozenset((BM, IEM))
    case.cog_timing = set().union(*(cog_timing(first_months, IEM if c == IEM else BM)
                                    for c in categories))


def _dimensions(case: Case) -> Inputs:
    """Each fact a scheme reads, as the set of values it can take here."""
    assert case.site is not None and case.bfm is not None
    phenotype = (case.phenotype,) if case.phenotype else ("B", "T")
    categories = tuple(sorted(case.site.categories)) or (BM, COMB, IEM)
    timing_fact = "frontline-end-date" if case.bfm.needs_frontline_end else "diagnosis-date"
    mrd = case.end_block_1
    mrd_side = compare(mrd, cog.MRD_CUTOFF) if mrd else None
    described = {
        "immunophenotype": f"{case.phenotype}-lineage" if case.phenotype else "lineage unknown",
        "relapse-site": (stratify.SITE_LABEL[categories[0]] if len(categories) == 1
                         else "site unknown"),
        "frontline-end-date": f"BFM timing {'/'.join(sorted(case.bfm.options))}",
        "mrd-end-of-reinduction": (f"end-block-1 MRD {mrd_side} 0.1%" if mrd_side
                                   else "end-block-1 MRD not known"),
    }
    if case.months:
        described["diagnosis-date"] = f"{_months_text(case.months)} from diagnosis"
    return Inputs(
        phenotype=Dimension("immunophenotype", "immunophenotype", phenotype),
        site=Dimension("relapse-site", "site", categories),
        bfm_timing=Dimension(timing_fact, "BFM timing",
                             tuple(t for t in BFM_ORDER if t in case.bfm.options)),
        months=case.months,
        mrd=Dimension("mrd-end-of-reinduction", "end-block-1 MRD vs 0.1%",
                      (mrd_side,) if mrd_side else (BELOW, AT_OR_ABOVE)),
        described=described,
    )


def _months_text(months: tuple[int, int]) -> str:
    return f"{months[0]} months" if months[0] == months[1] else f"{months[0]}–{months[1]} months"


Strata = dict[str, Stratum | NotApplicable]


def applicable_schemes(case: Case) -> list[Scheme]:
    """The schemes whose populations include this patient's (§2); an unknown population keeps
    the pediatric ones open (with the birth date listed as missing)."""
    return [s for s in SCHEMES if case.population.name in s.populations]


# The facts each timing family's group is read from, for the reason given with it.
BASIS = {"bfm": ["immunophenotype", "relapse-site", "diagnosis-date", "frontline-end-date"],
         "cog": ["immunophenotype", "relapse-site", "diagnosis-date", "mrd-end-of-reinduction"]}


def stratify_case(case: Case) -> Strata:
    strata: Strata = dict.fromkeys(SCHEME_IDS, "not-applicable")
    if case.undated_relapse:
        return _undated_strata(case, strata)
    if case.current is None or case.site is None or case.number != 1:
        return strata
    if case.site.unconfirmed:
        return _unconfirmed_strata(case, strata)
    inputs = _dimensions(case)
    for scheme in applicable_schemes(case):
        result = stratify.result(scheme, inputs)
        case.strata[scheme.id] = result
        risk = None
        if scheme.risk:
            risks = {scheme.risk[g] for g in result.combos.values()}
            risk = risks.pop() if len(risks) == 1 else "indeterminate"
        strata[scheme.id] = Stratum(
            group=result.group, reason=stratify.describe(result, inputs, scheme.source,
                                                         BASIS[scheme.timing]),
            depends_on=[d.fact for d in result.deciding], risk=risk,
            outcomes=scheme.outcomes.get(result.group) if scheme.outcomes else None)
        for dim in result.deciding:
            case.need(dim.fact, [scheme.id], result.decides)
    if case.bfm and case.bfm.provisional and any(s.timing == "bfm" for s in applicable_schemes(case)):
        case.notes.append(
            f"BFM-family timing provisional reading: {case.bfm.provisional}, assuming 24 months "
            "of frontline therapy (late from 30 months after diagnosis; 001, 002). This misfires "
            "for 3-year protocols: record the end date of frontline therapy.")
    return strata


def _undated_strata(case: Case, strata: Strata) -> Strata:
    """A relapse recorded without a date: timing and the results at relapse cannot be read, so
    every scheme that applies is indeterminate until the date is recorded (never a guess)."""
    return _all_indeterminate(case, strata, "relapse-date", "the relapse is recorded without a "
                              "date: its timing and the results at relapse cannot be read")


def _unconfirmed_strata(case: Case, strata: Strata) -> Strata:
    """Results that may not meet relapse criteria make every stratum indeterminate (§1.3)."""
    names = [s.id for s in applicable_schemes(case)]
    case.need("relapse-site", names, "the relapse is not confirmed by the results at relapse")
    return _all_indeterminate(case, strata, "relapse-site", "the results at relapse may not meet "
                              "relapse criteria (002 Table 2); confirm the relapse first")


def _all_indeterminate(case: Case, strata: Strata, fact: str, reason: str) -> Strata:
    for scheme in applicable_schemes(case):
        strata[scheme.id] = Stratum(group="indeterminate", reason=reason, depends_on=[fact],
                                    risk="indeterminate" if scheme.risk else None)
    return strata


def _timing_fields(case: Case) -> Timing:
    def one(options: set[str]) -> str:
        return next(iter(options)) if len(options) == 1 else "indeterminate"

    bfm_options = case.bfm.options if case.bfm else set()
    provisional = case.bfm.provisional if case.bfm else None
    return Timing(cog=CogTiming(one(case.cog_timing)), bfm=BfmTiming(one(bfm_options)),
                  bfm_provisional=BfmTiming(provisional) if provisional else None)


def discordance(case: Case) -> None:
    """COG and BFM-family timing disagree (§1.2): show both readings (002)."""
    if not case.strata or case.bfm is None or len(case.cog_timing) != 1 or len(case.bfm.options) != 1:
        return
    cog_reading, bfm_reading = next(iter(case.cog_timing)), next(iter(case.bfm.options))
    if cog_reading != family(bfm_reading):
        case.warn("timing-discordance",
                  f"Timing differs between the families: COG {cog_reading} (from months since "
                  f"diagnosis) but BFM/UK/I-BFM {bfm_reading} (from the end of frontline therapy). "
                  "Both readings are shown; the schemes use their own.", ["002", "000"],
                  rests_on=["diagnosis-date", "relapse-date", "frontline-end-date"])


def relapse_section(case: Case) -> Relapse:
    """The current relapse; for a second or later one, the first relapse's timing and therapy
    status are reported only as the first relapse's (§1.6)."""
    site = case.site
    later = case.number >= 2
    first = None
    if later:
        first = FirstRelapse(
            date=case.episodes[0].onset.text,
            months_from_diagnosis=exact(month_range(case.diagnosis, case.episodes[0].onset))
            if case.diagnosis else None,
            months_after_frontline_end=exact(case.months_after_end),
            relapse_on_therapy=case.frontline.on_therapy if case.frontline else None,
            timing=_timing_fields(case))
    return Relapse(
        number=case.number,
        date=case.current.onset.text if case.current else None,
        refractory=case.refractory,
        site=Site(site.site) if site else Site.INDETERMINATE,
        extramedullary_sites=site.extramedullary if site else [],
        cns_status=site.cns_status if site else None,
        marrow_status=site.marrow_status if site else None,
        immunophenotype=Phenotype(case.phenotype or Phenotype.INDETERMINATE),
        months_from_diagnosis=exact(case.months),
        months_after_frontline_end=None if later else exact(case.months_after_end),
        relapse_on_therapy=None if later else case.frontline.on_therapy if case.frontline else None,
        timing=None if later else _timing_fields(case),
        months_since_previous_relapse=(
            months_between(case.episodes[-2].day, case.episodes[-1].day) if later else None),
        first_relapse=first,
        after_hsct=case.hsct_before is not None,
        months_after_hsct=case.months_after_hsct,
        after_car_t=case.car_t_before is not None,
        months_after_car_t=(months_between(case.car_t_before, case.current.day)
                            if case.car_t_before and case.current else None),
    )
