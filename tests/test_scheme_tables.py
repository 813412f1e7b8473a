"""Every cell of the four scheme tables of CLINICAL_RULES §2, end to end from FHIR resources.

The expected groups are transcribed from the spec's tables, not from the engine.
"""

from __future__ import annotations

import pytest
from scenarios import TIMING, assess_cell

# CLINICAL_RULES §2.1 BFM (001 Table 1): (phenotype, site) → (VE, E, L)
BFM = {("B", "IEM"): ("S2", "S2", "S1"), ("T", "IEM"): ("S2", "S2", "S1"),
       ("B", "BM"): ("S4", "S3", "S2"), ("B", "COMB"): ("S4", "S2", "S2"),
       ("T", "BM"): ("S4", "S4", "S4"), ("T", "COMB"): ("S4", "S4", "S4")}
BFM_RISK = {"S1": "standard", "S2": "intermediate", "S3": "high", "S4": "high"}
# §2.2 UK ALLR3
UK = {("B", "IEM"): ("high", "intermediate", "standard"),
      ("T", "IEM"): ("high", "intermediate", "standard"),
      ("B", "BM"): ("high", "high", "intermediate"),
      ("B", "COMB"): ("high", "intermediate", "intermediate"),
      ("T", "BM"): ("high", "high", "high"), ("T", "COMB"): ("high", "high", "high")}
# §2.3 I-BFM
IBFM = {("B", "IEM"): ("high", "standard", "standard"), ("T", "IEM"): ("high", "standard", "standard"),
        ("B", "BM"): ("high", "high", "standard"), ("B", "COMB"): ("high", "standard", "standard"),
        ("T", "BM"): ("high", "high", "high"), ("T", "COMB"): ("high", "high", "high")}
TIMINGS = ("very-early", "early", "late")
SITES = {"BM": "isolated-marrow", "COMB": "combined", "IEM-cns": "isolated-cns",
         "IEM-testis": "isolated-testicular"}

CELLS = [(p, s, t) for p in ("B", "T") for s in SITES for t in TIMINGS]


def _table_site(site: str) -> str:
    return "IEM" if site.startswith("IEM") else site


@pytest.mark.parametrize(("phenotype", "site", "timing"), CELLS)
def test_bfm_uk_ibfm_cells(phenotype: str, site: str, timing: str) -> None:
    result = assess_cell(phenotype, site, timing)
    column = TIMINGS.index(timing)
    key = (phenotype, _table_site(site))
    assert result["relapse"]["site"] == SITES[site]
    assert result["relapse"]["timing"]["bfm"] == timing
    assert result["strata"]["bfm"]["group"] == BFM[key][column]
    assert result["strata"]["bfm"]["risk"] == BFM_RISK[BFM[key][column]]
    assert result["strata"]["ukall"]["group"] == UK[key][column]
    assert result["strata"]["ibfm"]["group"] == IBFM[key][column]


# §2.4 COG with the end-block-1 MRD: (phenotype, site, COG timing) → (< 0.1 %, ≥ 0.1 %, unknown)
COG = {("B", "BM", "early"): ("high", "high", "high"),
       ("B", "BM", "late"): ("low", "intermediate", "low-or-intermediate"),
       ("B", "IEM", "early"): ("high", "high", "high"),
       ("B", "IEM", "late"): ("low", "intermediate", "low-or-intermediate"),
       ("T", "BM", "early"): ("high", "high", "high"), ("T", "BM", "late"): ("high", "high", "high"),
       ("T", "IEM", "early"): ("high", "high", "high"), ("T", "IEM", "late"): ("high", "high", "high")}


def _cog_timing(site: str, months: int) -> str:
    cut = 18 if site.startswith("IEM") else 36  # §1.2: IEM < 18, marrow < 36 months
    return "early" if months < cut else "late"


@pytest.mark.parametrize("mrd_column", [0, 1, 2])
@pytest.mark.parametrize(("phenotype", "site", "timing"), CELLS)
def test_cog_cells(phenotype: str, site: str, timing: str, mrd_column: int) -> None:
    import builders as b
    from scenarios import iso

    months = TIMING[timing][0]
    # reinduction starts on the relapse day; end-block-1 MRD at day 30
    extra: tuple = (b.medication("3264", iso(months), iso(months, 28)),)
    if mrd_column < 2:
        extra += (b.mrd(iso(months, 29), 0.05 if mrd_column == 0 else 0.5),)
    result = assess_cell(phenotype, site, timing, extra=extra, as_of_months=2)
    cog_timing = _cog_timing(site, months)
    cog_site = "IEM" if site.startswith("IEM") else "BM"
    assert result["relapse"]["timing"]["cog"] == cog_timing
    assert result["strata"]["cog"]["group"] == COG[(phenotype, cog_site, cog_timing)][mrd_column]
