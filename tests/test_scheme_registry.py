"""One scheme registry: every scheme module is in it, and the assessment, its JSON Schema and the
allocation comparison all follow it (issue 8)."""

from __future__ import annotations

import importlib
import pkgutil

from scenarios import assess_cell

import service.engine.schemes as schemes_package
from service.assessment import assessment_schema
from service.engine.schemes import SCHEME_IDS, SCHEMES
from service.engine.schemes.registry import Scheme


def test_every_scheme_module_is_registered_once() -> None:
    declared = []
    for info in pkgutil.iter_modules(schemes_package.__path__):
        module = importlib.import_module(f"service.engine.schemes.{info.name}")
        if isinstance(getattr(module, "SCHEME", None), Scheme):
            declared.append(module.SCHEME)
    assert sorted(s.id for s in declared) == sorted(SCHEME_IDS)
    assert len(set(SCHEME_IDS)) == len(SCHEME_IDS)


def test_the_schema_and_the_assessment_have_a_stratum_per_registered_scheme() -> None:
    assert set(assessment_schema()["properties"]["strata"]["properties"]) == set(SCHEME_IDS)
    assert set(assess_cell("B", "BM", "early")["strata"]) == set(SCHEME_IDS)


def test_every_group_of_a_bfm_family_table_has_its_allocation_row() -> None:
    """§2.5 gives BFM, UK ALLR3 and I-BFM an allocation for each group; COG's follows 000 (§3)."""
    for scheme in SCHEMES:
        if scheme.timing != "bfm":
            assert not scheme.allocation
            continue
        groups = {scheme.group(p, s, t) for p in ("B", "T") for s in ("BM", "COMB", "IEM")
                  for t in ("very-early", "early", "late")}
        assert set(scheme.allocation) == groups, scheme.id
