"""What the advice reads from the case (service/engine/advice/situation.py): each threshold and
window on both sides, through the public pipeline (CLINICAL_RULES §3–§6; issue 16)."""

from __future__ import annotations

import builders as b
from advice_helpers import assess, codes, refractory_condition
from scenarios import iso


# §5 applies to anyone ≥ 18 at diagnosis: a known adult age is never read as "age unknown"
def test_adult_with_primary_refractory_disease_gets_the_adult_advice_not_the_pediatric() -> None:
    bundle = b.bundle(b.patient("1960-01-01"), b.diagnosis(iso(0), "B"), refractory_condition(iso(2)))
    result = assess(bundle, 3)
    assert result["age_at_diagnosis_years"] == 55
    assert {"blinatumomab-salvage", "inotuzumab", "car-t-cd19", "donor-search"} <= codes(result)
    assert "clofarabine-regimen" not in codes(result)  # the pediatric refractory table (001)


def test_child_with_primary_refractory_disease_gets_the_pediatric_refractory_table() -> None:
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), refractory_condition(iso(2)))
    result = assess(bundle, 3)
    assert {"inotuzumab", "car-t-cd19", "clofarabine-regimen", "donor-search"} <= codes(result)
    assert not codes(result) & {"blinatumomab-salvage", "hsct-cr2", "blinatumomab-consolidation"}
