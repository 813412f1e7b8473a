"""The case's missing-fact requests (service/engine/case.py): each tells how to obtain *its* fact
(OUTPUT.md §1 missing-fact codes; issue 16)."""

from __future__ import annotations

import pytest

from service.engine.case import HOW

KEYWORD = {"birth-date": "date of birth", "diagnosis-date": "initial ALL diagnosis",
           "relapse-date": "relapse as a Condition", "immunophenotype": "lineage",
           "relapse-site": "marrow, CSF", "marrow-blasts": "marrow blast percentage",
           "csf-findings": "Lumbar puncture", "testicular-biopsy": "Testicular biopsy",
           "frontline-end-date": "frontline therapy ended", "mrd-end-of-reinduction": "marrow MRD",
           "cd19-status": "CD19", "cd22-status": "CD22", "genetics": "Panel sequencing"}


@pytest.mark.parametrize("fact", sorted(HOW))
def test_each_missing_fact_says_how_to_obtain_that_fact(fact: str) -> None:
    assert KEYWORD[fact] in HOW[fact]
    assert all(KEYWORD[other] not in HOW[fact] for other in KEYWORD if other != fact
               and KEYWORD[other] not in KEYWORD[fact])
