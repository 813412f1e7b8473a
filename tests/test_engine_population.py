"""Population and age (OUTPUT.md §1; CLINICAL_RULES §1.4b, §2, §5): age in whole years;
pediatric < 18 at initial diagnosis; aya ≥ 18 at diagnosis and ≤ 30 at relapse; adult ≥ 18 at
diagnosis and > 30 at relapse; infants (< 1 at diagnosis) and children relapsing after 30 are
outside the source trials."""

from __future__ import annotations

from datetime import date

import builders as b
import pytest

from service.engine.population import population
from service.facts import FuzzyDate
from service.pipeline import assess_bundle

BIRTH = "2000-06-15"


def _assess(birth: str | None, diagnosis: str | None, relapse: str) -> dict:
    resources = [b.patient(birth), b.relapse(relapse, ("marrow",))]
    if diagnosis:
        resources.append(b.diagnosis(diagnosis, "B"))
    return assess_bundle(b.bundle(*resources), as_of=date.fromisoformat(relapse))


def fuzzy(text: str) -> FuzzyDate:
    if len(text) == 4:
        return FuzzyDate(earliest=date(int(text), 1, 1), latest=date(int(text), 12, 31), text=text)
    day = date.fromisoformat(text)
    return FuzzyDate(earliest=day, latest=day, text=text)


@pytest.mark.parametrize(("diagnosis", "age", "name"), [
    ("2018-06-14", 17, "pediatric"),  # one day before the 18th birthday
    ("2018-06-15", 18, "aya"),        # the 18th birthday
    ("2017-07-15", 17, "pediatric"),  # 17 years 1 month
    ("2018-05-15", 17, "pediatric"),  # 17 years 11 months
    ("2019-05-15", 18, "aya"),        # 18 years 11 months
])
def test_18_years_at_diagnosis_divides_pediatric_from_adult_pathways(
        diagnosis: str, age: int, name: str) -> None:
    result = _assess(BIRTH, diagnosis, "2020-01-10")
    assert result["age_at_diagnosis_years"] == age
    assert result["population"] == name
    strata = result["strata"]
    pediatric_schemes = "not-applicable" if name == "aya" else None
    if pediatric_schemes:
        assert strata["bfm"] == strata["ukall"] == strata["ibfm"] == "not-applicable"
        assert strata["cog"] != "not-applicable"  # COG enrolled ages 1–30 (000 Table 2)
    else:
        assert isinstance(strata["bfm"], dict)


@pytest.mark.parametrize(("relapse", "age", "name"), [
    ("2030-06-14", 29, "aya"),
    ("2031-06-14", 30, "aya"),      # 30 is still aya (≤ 30)
    ("2031-06-15", 31, "adult"),    # 31st birthday
    ("2031-05-20", 30, "aya"),
])
def test_30_years_at_relapse_divides_aya_from_adult(relapse: str, age: int, name: str) -> None:
    result = _assess(BIRTH, "2019-01-10", relapse)
    assert result["age_at_relapse_years"] == age
    assert result["population"] == name
    if name == "adult":
        assert all(v == "not-applicable" for v in result["strata"].values())


@pytest.mark.parametrize(("diagnosis", "infant"), [
    ("2001-06-14", True), ("2001-06-15", False), ("2000-12-01", True)])
def test_infant_below_one_year_at_diagnosis_is_outside_the_trials(diagnosis: str,
                                                                  infant: bool) -> None:
    result = _assess(BIRTH, diagnosis, "2003-01-10")
    assert result["population"] == "pediatric"
    warnings = " ".join(w["text"] for w in result.get("warnings", [])
                        if w["code"] == "outside-trial-population")
    assert ("infant at diagnosis" in warnings) is infant


@pytest.mark.parametrize(("relapse", "outside"), [("2031-06-14", False), ("2031-06-15", True)])
def test_child_relapsing_after_30_is_outside_the_trials(relapse: str, outside: bool) -> None:
    result = _assess(BIRTH, "2010-01-10", relapse)
    assert result["population"] == "pediatric"
    warnings = " ".join(w["text"] for w in result.get("warnings", [])
                        if w["code"] == "outside-trial-population")
    assert ("relapsed after 30" in warnings) is outside


def test_no_birth_date_is_indeterminate_and_listed() -> None:
    result = _assess(None, "2010-01-10", "2012-01-10")
    assert result["population"] == "indeterminate"
    assert "birth-date" in {m["fact"] for m in result["missing"]}
    # an unknown population keeps every scheme (§2: the birth date decides)
    assert all(isinstance(v, dict) for v in result["strata"].values())


def test_without_diagnosis_date_a_relapse_before_18_is_pediatric() -> None:
    assert _assess(BIRTH, None, "2018-06-14")["population"] == "pediatric"
    assert _assess(BIRTH, None, "2018-06-15")["population"] == "indeterminate"


def test_population_direct() -> None:
    birth = fuzzy(BIRTH)
    assert population(birth, fuzzy("2018-06-14"), fuzzy("2020-01-01")).name == "pediatric"
    assert population(birth, fuzzy("2018-06-15"), None).name == "indeterminate"
    assert population(None, fuzzy("2010-01-01"), fuzzy("2012-01-01")).name == "indeterminate"
    assert population(birth, None, None).name == "indeterminate"
    no_dx = population(birth, None, fuzzy("2018-06-14"))
    assert (no_dx.name, no_dx.age_at_diagnosis, no_dx.age_at_relapse) == ("pediatric", None, 17)


@pytest.mark.parametrize(("diagnosis", "relapse", "name"), [
    ("2018", "2020-01-10", "indeterminate"),    # 17 or 18 at diagnosis
    ("2017", "2020-01-10", "pediatric"),        # 16 or 17: under 18 either way
    ("2019", "2020-01-10", "aya"),              # 18 or 19
    ("2019", "2031", "indeterminate"),          # 30 or 31 at relapse
    ("2019", "2032", "adult"),                  # 31 or 32
    ("2019", "2030", "aya"),                    # 29 or 30
])
def test_partial_dates_straddling_an_age_boundary(diagnosis: str, relapse: str, name: str) -> None:
    result = population(fuzzy(BIRTH), fuzzy(diagnosis), fuzzy(relapse))
    assert result.name == name


def test_partial_year_of_relapse_leaves_the_age_unknown() -> None:
    result = population(fuzzy(BIRTH), fuzzy("2019-01-10"), fuzzy("2031"))
    assert result.age_at_diagnosis == 18
    assert result.age_at_relapse is None


def test_infant_note_only_when_surely_under_one() -> None:
    # born 2000-06-15, diagnosed sometime in 2001: 0 or 1 year old → not surely an infant
    result = population(fuzzy(BIRTH), fuzzy("2001"), fuzzy("2003-01-01"))
    assert result.name == "pediatric"
    assert not any("infant" in n for n in result.notes)
    # diagnosed in 2000 (after birth): surely under one
    surely = population(fuzzy(BIRTH), FuzzyDate(earliest=date(2000, 7, 1),
                                                latest=date(2000, 12, 31), text="2000-07/12"),
                        fuzzy("2003-01-01"))
    assert any("infant" in n for n in surely.notes)


def test_after_30_note_only_when_surely_over_30() -> None:
    maybe = population(fuzzy(BIRTH), fuzzy("2010-01-10"), fuzzy("2031"))
    assert not any("after 30" in n for n in maybe.notes)
    surely = population(fuzzy(BIRTH), fuzzy("2010-01-10"), fuzzy("2032"))
    assert any("after 30" in n for n in surely.notes)


def test_without_diagnosis_date_the_age_at_diagnosis_is_known_only_at_zero() -> None:
    """Diagnosed before the relapse: at relapse aged 0, diagnosed aged 0 too (an infant); at
    relapse aged exactly 1, the age at diagnosis is 0 or 1 and not reported."""
    baby = population(fuzzy(BIRTH), None, fuzzy("2001-03-01"))
    assert (baby.name, baby.age_at_diagnosis, baby.age_at_relapse) == ("pediatric", 0, 0)
    assert any("infant" in n for n in baby.notes)
    one = population(fuzzy(BIRTH), None, fuzzy("2001-07-01"))
    assert (one.name, one.age_at_diagnosis, one.age_at_relapse) == ("pediatric", None, 1)
    assert not any("infant" in n for n in one.notes)
    # relapse sometime in 2001: 0 or 1 at relapse, so possibly not an infant at diagnosis
    maybe = population(fuzzy(BIRTH), None, fuzzy("2001"))
    assert maybe.name == "pediatric" and not any("infant" in n for n in maybe.notes)
