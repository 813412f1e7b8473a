"""The order checks, one row per CLINICAL_RULES §6 check that an order can trigger.

Whether a check fires is decided once, by the §6 rules of the advice tables
(``service/engine/advice/tables/safety.py``), run on the record with the draft orders in it as
planned therapy; a check concerns a draft when the engine's warning cites it.  This table adds
what only an order card needs: how loud it is (``critical`` where §6 says contraindicated or the
target is absent, ``warning`` otherwise), the reason in a few words for the summary, the override
reasons a prescriber may give, the fix (remove the draft, or reduce a radiation dose) and the
safer alternative where a source names one.  Each row quotes its §6 line and sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from service.engine.advice.tables.safety import SAFETY_CHECKS

OVERRIDE_SYSTEM = "urn:relapsed-all-cds:order-override-reason"
CONCEPT_SYSTEM = "urn:relapsed-all-cds:concept"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
REDUCED_DOSE_CGY = 1500  # 001: reduce CNS radiation to 15 Gy after > 20 Gy prior cranial irradiation

Fix = Literal["remove", "reduce-dose"]


@dataclass(frozen=True)
class Alternative:
    """A safer order a source names, offered as a draft ``create``."""

    label: str
    resource: dict[str, Any]  # without subject; status draft and intent proposal are added
    source: str


@dataclass(frozen=True)
class OrderCheck:
    code: str  # the §6 warning code of the advice tables
    indicator: Literal["critical", "warning"]
    problem: str  # the reason, a few words, for the card summary
    rule: str  # the §6 line: condition → message (source)
    sources: tuple[str, ...]
    override_reasons: tuple[tuple[str, str], ...]  # (code, display)
    fix: Fix = "remove"
    alternatives: tuple[Alternative, ...] = ()


BENEFIT = ("benefit-outweighs-risk", "Benefit outweighs the risk (specialist decision)")
RECORD_WRONG = ("record-incorrect", "The record is incorrect or out of date")

ORDER_CHECKS = {c.code: c for c in (
    # §6: blinatumomab planned/active and active CNS disease | 004's authors: contraindicated
    # with evidence of CNS disease (trials excluded it) | 004
    OrderCheck(
        "blinatumomab-cns-disease", "critical", "contraindicated with active CNS disease (004)",
        "Blinatumomab planned and active CNS disease → contraindicated: the trials excluded CNS "
        "disease (004)", ("004",),
        (("cns-cleared", "CNS disease cleared (CSF clear since the relapse)"), BENEFIT,
         RECORD_WRONG)),
    # §6: CD19-negative relapse and blinatumomab or CD19 CAR-T planned | target absent | 000.
    # 000, patient 1 scenario 3 (CD19-negative, CD22-positive relapse): "we would administer
    # inotuzumab or enroll in a trial of CD22-CAR".
    OrderCheck(
        "cd19-negative", "critical", "target absent, the relapse is CD19-negative (000)",
        "CD19-negative relapse and blinatumomab or CD19 CAR-T planned → target absent (000)",
        ("000",),
        (("cd19-retested-positive", "CD19 re-tested positive"), BENEFIT, RECORD_WRONG),
        alternatives=(
            Alternative("Propose inotuzumab (CD22-directed) instead", {
                "resourceType": "MedicationRequest",
                "medicationCodeableConcept": {"coding": [{
                    "system": RXNORM, "code": "1942950", "display": "inotuzumab ozogamicin"}],
                    "text": "inotuzumab ozogamicin"}}, "000"),
            Alternative("Refer for a CD22-directed CAR-T trial instead", {
                "resourceType": "ServiceRequest",
                "code": {"coding": [{"system": CONCEPT_SYSTEM, "code": "car-t-cd22-trial-referral",
                                     "display": "Referral for a CD22-directed CAR-T cell trial"}],
                         "text": "Referral for a CD22-directed CAR-T cell trial"}}, "000"),
        )),
    # Beside §6 (its two rows above fire only when the deciding result is known): an order made
    # while CNS status or CD19 is unknown is said to be unchecked, never passed as safe.
    OrderCheck(
        "blinatumomab-cns-status-unknown", "warning",
        "CNS status at this relapse not known; contraindicated with CNS disease (004)",
        "Blinatumomab planned and no CSF result that calls the CNS status at this relapse → "
        "read the CSF first: contraindicated with CNS disease (004)", ("004",),
        (("csf-read-elsewhere", "CSF read and clear (result not yet in the record)"), BENEFIT,
         RECORD_WRONG)),
    OrderCheck(
        "cd19-status-unknown", "warning",
        "CD19 on the relapse blasts not known; no target if negative (000)",
        "Blinatumomab or CD19 CAR-T planned and CD19 not tested at this relapse → test CD19 "
        "first: a CD19-negative relapse has no target (000)", ("000",),
        (("cd19-tested-elsewhere", "CD19 tested positive (result not yet in the record)"),
         BENEFIT, RECORD_WRONG)),
    # §6: inotuzumab given and HSCT planned | veno-occlusive disease risk; fewer cycles | 000, 004
    OrderCheck(
        "inotuzumab-vod-risk", "warning", "veno-occlusive disease risk, inotuzumab and HSCT (000, 004)",
        "Inotuzumab given and HSCT planned → veno-occlusive disease risk; fewer cycles (000, 004)",
        ("000", "004"),
        (("fewest-cycles", "The fewest cycles are planned"),
         ("hsct-not-planned", "HSCT is no longer planned"), BENEFIT, RECORD_WRONG)),
    # §6: nelarabine with intrathecal chemotherapy concomitantly | neurotoxicity; avoid
    # concomitant use (NECTAR may be more practical after induction) | 000
    OrderCheck(
        "nelarabine-intrathecal-neurotoxicity", "warning",
        "neurotoxicity with concomitant intrathecal chemotherapy (000)",
        "Nelarabine with intrathecal chemotherapy concomitantly (within 14 days, or in the same "
        "reinduction block) → neurotoxicity; avoid concomitant use (000)", ("000",),
        (("not-concomitant", "The doses are not given together (more than 14 days apart)"),
         BENEFIT, RECORD_WRONG)),
    # §6: prior cranial irradiation > 20 Gy and CNS radiation planned | reduce to 15 Gy | 001
    OrderCheck(
        "cranial-radiation-dose-reduction", "warning",
        "prior cranial irradiation over 20 Gy, reduce to 15 Gy (001)",
        "Prior cranial irradiation > 20 Gy and CNS radiation planned → reduce to 15 Gy (001)",
        ("001",),
        (("dose-already-reduced", "The dose is already 15 Gy or less"), BENEFIT, RECORD_WRONG),
        fix="reduce-dose"),
    # §6: prior blinatumomab and CAR-T planned | may raise risk of non-response or CD19-negative
    # relapse; not a contraindication | 000
    OrderCheck(
        "prior-blinatumomab-before-car-t", "warning",
        "prior blinatumomab may raise non-response; not a contraindication (000)",
        "Prior blinatumomab and CAR-T planned → may raise the risk of non-response or "
        "CD19-negative relapse; not a contraindication (000)", ("000",),
        (BENEFIT, RECORD_WRONG)),
)}

# The reference groups of the §6 rules that cite orders (service/engine/advice/situation.py).
ORDER_REF_GROUPS = {"blinatumomab-orders", "cd19-directed-orders", "inotuzumab", "hsct-planned",
                    "nelarabine-intrathecal", "prior-cranial", "car-t-orders"}


def _check_table() -> None:
    """Every §6 rule that cites an order has a row here, and every row is a §6 check: a §6 row
    added without its order check (or the reverse) stops the service at start-up."""
    citing = {r.code for r in SAFETY_CHECKS.rules if ORDER_REF_GROUPS & set(r.refs)}
    if citing != set(ORDER_CHECKS):
        raise RuntimeError(f"order checks and §6 rules differ: {sorted(citing ^ set(ORDER_CHECKS))}")


_check_table()
