"""What each advice code says: one text per code, over its parameters (OUTPUT.md §1 codes).

A rule (in the tables) decides *when* a code applies and adds *why*; the words of the action are
declared here once, so two rules can never give one code two different texts, and a parameter
shown in the text is the parameter sent (the text is rendered from it).

``excludes``: a code that, when recommended, rules out others — HSCT in CR2 replaces
chemotherapy continuation, and its TBI with a CNS boost replaces cranial radiation (000 Figure 1B;
001).  Situational exclusions (CD19-negative, refractory disease, after CAR-T) are rows of the
tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["recommendation", "warning"]


@dataclass(frozen=True)
class Entry:
    code: str
    kind: Kind
    text: str
    params: dict[str, object] = field(default_factory=dict)  # defaults a rule may override
    excludes: tuple[str, ...] = ()


CD19_DIRECTED = ("blinatumomab-consolidation", "blinatumomab-salvage", "car-t-cd19")
# Therapy codes given *before* CAR-T: none of them follows a CAR-T given for this relapse (000 §4).
PRE_CAR_T_THERAPY = ("reinduction-4-drug", "infection-prophylaxis", "blinatumomab-consolidation",
                     "inotuzumab", "car-t-cd19", "clofarabine-regimen", "chemotherapy-continuation",
                     "hsct-cr2", "mrd-assessment", "salvage-regimen", "blinatumomab-salvage",
                     "nelarabine-regimen", "tki")

R: Kind = "recommendation"
W: Kind = "warning"
ENTRIES: tuple[Entry, ...] = (
    Entry("reinduction-4-drug", R, "Reinduction: the UKALL R3 block (dexamethasone, vincristine, "
          "mitoxantrone, pegaspargase, intrathecal methotrexate) or another 4-drug regimen."),
    Entry("infection-prophylaxis", R, "Infection risk is high: hospitalise until count recovery "
          "with antibacterial, antifungal and Pneumocystis prophylaxis."),
    Entry("blinatumomab-consolidation", R, "Blinatumomab after reinduction: {cycles} more cycle(s) "
          "of {cycle_days} days, then HSCT in CR2 once MRD is below 0.01% (after cycle 1 if a "
          "donor is ready and MRD is negative).", {"cycle_days": 28}),
    Entry("chemotherapy-continuation", R, "Chemotherapy to a total of {duration_years} years, "
          "without HSCT.", {"duration_years": 2}),
    Entry("hsct-cr2", R, "Allogeneic HSCT in second remission (CR2) from the best available "
          "donor, aiming for MRD below {mrd_threshold_percent}% before it.",
          {"mrd_threshold_percent": 0.01},
          excludes=("chemotherapy-continuation", "cranial-radiation")),
    Entry("donor-search", R, "Start HLA typing of the patient and siblings and a donor search now. "
          "Matched sibling, matched unrelated and haploidentical donors give similar survival "
          "(000); 001 prefers a matched sibling, then an unrelated donor with at most 1 allele "
          "mismatch at HLA-A, -B, -C, -DRB1."),
    Entry("mrd-assessment", R, "Marrow MRD at {timepoint}, read against {threshold_percent}%."),
    Entry("mrd-directed-therapy-before-hsct", R, "Further MRD-directed therapy before HSCT "
          "({agents}) and a repeat MRD: MRD at or above {threshold_percent}% before HSCT predicts "
          "relapse after it, but is not a bar to HSCT (MRD 0.1 to < 5% still gave 43% survival in "
          "one series).", {"threshold_percent": 0.01}),
    Entry("inotuzumab", R, "Inotuzumab ozogamicin (anti-CD22) if the blasts are CD22-positive; "
          "veno-occlusive disease risk with a later HSCT: use the fewest cycles."),
    Entry("car-t-cd19", R, "CD19-directed CAR-T (tisagenlecleucel or a clinical trial)."),
    Entry("car-t-cd22-trial", R, "CD22 CAR-T on a clinical trial (identifiers in the source "
          "review; check current status)."),
    Entry("t-cell-collection", R, "Collect T cells for CAR-T before further therapy when the blood "
          "CD3 count is above {cd3_threshold_per_ul}/µL; after chemotherapy wait at least 2 weeks "
          "and for an absolute lymphocyte count above {alc_threshold_per_ul}/µL.",
          {"cd3_threshold_per_ul": 200, "alc_threshold_per_ul": 500}),
    Entry("tki", R, "A tyrosine kinase inhibitor (imatinib or dasatinib) with reinduction."),
    Entry("ruxolitinib-if-refractory", R, "Ruxolitinib only if refractory to reinduction or "
          "MRD-positive after 2 blinatumomab cycles."),
    Entry("genomic-profiling", R, "Panel sequencing and RNA fusion testing of the relapse sample: "
          "targetable lesions (ABL-class, JAK-STAT) change therapy."),
    Entry("intrathecal-therapy", R, "Intrathecal chemotherapy."),
    Entry("cranial-radiation", R, "Cranial radiation {dose_gy} Gy ({dose_cgy} cGy), unless HSCT "
          "with TBI and a CNS boost is planned."),
    Entry("orchiectomy", R, "Orchiectomy of the involved testis with biopsy of the other; for "
          "bilateral involvement orchiectomy or radiation {bilateral_dose_gy} Gy. Either causes "
          "infertility and impaired hormone production: fertility and endocrine counselling.",
          {"bilateral_dose_gy": 24}),
    Entry("testicular-radiation", R, "Radiation {dose_gy} Gy (15–18 Gy by biopsy) to the "
          "remaining testis after a unilateral orchiectomy; {bilateral_dose_gy} Gy when both are "
          "involved.", {"dose_gy": 15, "bilateral_dose_gy": 24}),
    Entry("nelarabine-regimen", R, "A nelarabine-based regimen (NECTAR: nelarabine, "
          "cyclophosphamide, etoposide); neurotoxicity: avoid nelarabine with concomitant "
          "intrathecal chemotherapy."),
    Entry("clofarabine-regimen", R, "A clofarabine-based regimen."),
    Entry("liposomal-vincristine", R, "Liposomal vincristine (approved for Ph-negative ALL in "
          "second or later relapse)."),
    Entry("early-phase-trial", R, "An early-phase clinical trial (000 Table 3 lists daratumumab, "
          "venetoclax/navitoclax, CDK4/6 and mTOR inhibitors among others; check current "
          "status)."),
    Entry("goals-of-care", R, "Discuss goals of care with the patient and family: cure and "
          "quality of life."),
    Entry("dli-or-second-hsct", R, "Withdrawal of immunosuppression or donor lymphocyte infusion, "
          "or a second HSCT in remission."),
    Entry("cns-testes-reevaluation", R, "Re-evaluate the CNS (lumbar puncture) and the testes."),
    Entry("repeat-marrow", R, "Repeat the marrow aspirate, with MRD."),
    Entry("repeat-lumbar-puncture", R, "Repeat the lumbar puncture (CSF leukocytes, erythrocytes "
          "and cytospin)."),
    Entry("hsct-after-car-t", R, "A (second) allogeneic HSCT after CAR-T, in MRD-negative "
          "remission; minimise toxicity on the way."),
    Entry("car-t-monitoring", R, "After CAR-T: marrow MRD at day 30 and 90, then every 3 months in "
          "year 1; blood B cells monthly for at least {b_cell_watch_months} months.",
          {"b_cell_watch_months": 6}),
    Entry("blinatumomab-salvage", R, "Blinatumomab (contraindicated with active CNS disease)."),
    Entry("salvage-regimen", R, "Salvage chemotherapy to reach remission before HSCT."),
    # warnings
    Entry("blinatumomab-cns-disease", W, "Blinatumomab with active CNS disease: 004's authors "
          "consider it contraindicated (the trials excluded CNS disease); clear the CNS first."),
    Entry("blinatumomab-cns-status-unknown", W, "Blinatumomab ordered while the CNS status at "
          "this relapse is not known: it is contraindicated with active CNS disease (004). Read "
          "the CSF (cytospin, leukocytes, erythrocytes) before it is given."),
    Entry("cd19-status-unknown", W, "CD19-directed therapy ordered while CD19 on the relapse "
          "blasts is not known: a CD19-negative relapse has no target (000). Test CD19 by flow "
          "cytometry before it is given."),
    Entry("cd19-negative", W, "CD19-negative relapse: blinatumomab and CD19 CAR-T are not options "
          "(the target is absent)."),
    Entry("inotuzumab-vod-risk", W, "Inotuzumab before HSCT raises the risk of veno-occlusive "
          "disease: use the fewest cycles."),
    Entry("nelarabine-intrathecal-neurotoxicity", W, "Nelarabine with concomitant intrathecal "
          "chemotherapy: neurotoxicity; avoid giving them together. Concomitant here means an "
          "intrathecal dose within {window_days} days before or after a nelarabine dose, or both "
          "in the current reinduction block (this service's reading; 000 gives no window).",
          {"window_days": 14}),
    Entry("cranial-radiation-dose-reduction", W, "Prior cranial irradiation above "
          "{prior_limit_gy} Gy: reduce CNS radiation to {dose_gy} Gy.",
          {"prior_limit_gy": 20, "dose_gy": 15}),
    Entry("prior-blinatumomab-before-car-t", W, "Prior blinatumomab may raise the risk of "
          "non-response or CD19-negative relapse after CAR-T; not a contraindication."),
    Entry("adverse-genetics-not-in-scheme", W, "Adverse genetics ({findings}) are not captured by "
          "the clinical risk schemes: the groups shown may understate the risk."),
    Entry("early-post-hsct-relapse", W, "Relapse {months_after_hsct} months after HSCT (under "
          "{threshold_months}): outcome is worse when relapse comes within 6–12 months of HSCT.",
          {"threshold_months": 12}),
    Entry("outside-trial-population", W, "Outside the populations of the source trials: groups and "
          "advice are computed but untested here."),
    Entry("allocation-discordance", W, "The schemes allocate this relapse differently after "
          "reinduction: {answers}. The recommendations here follow 000 ({followed}); weigh the "
          "others with the treating team."),
    Entry("incoherent-advice", W, "Recommendations that contradict each other were withheld "
          "({withheld}): review this patient's therapy with the treating team."),
)

# Warnings the engine core raises itself, with texts that name what it found (``core.py``).
ENGINE_WARNINGS = ("timing-discordance", "data-conflict", "lineage-switch")

def index(entries: tuple[Entry, ...]) -> dict[str, Entry]:
    """Code → entry; a code declared twice (two texts for one code) stops the start-up."""
    found: dict[str, Entry] = {}
    for entry in entries:
        if entry.code in found:
            raise ValueError(f"advice code {entry.code} is declared twice")
        found[entry.code] = entry
    return found


CATALOGUE = index(ENTRIES)
