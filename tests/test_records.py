"""The records behind a card in words (service/cards/records.py): one of every kind of fact, as
the cards name them; a reference read as two facts keeps the first. Records are put in words
only when read, so each is read here."""

from __future__ import annotations

from datetime import date

from service.cards.records import Record, records_of
from service.facts import (
    CnsCondition,
    Diagnosis,
    Finding,
    GeneticFinding,
    Measurement,
    Mrd,
    PatientFacts,
    ProcedureFact,
    Refractory,
    RelapseRecord,
    Therapy,
)
from service.fhir.dates import parse_fhir_date

DAY = date(2020, 7, 20)


def _facts() -> PatientFacts:
    return PatientFacts(
        diagnoses=[Diagnosis(refs=("Condition/dx",), onset=parse_fhir_date("2018-01"),
                             lineage="B")],
        relapses=[RelapseRecord(refs=("Condition/rel",), onset=parse_fhir_date("2020-07-20"))],
        refractory=[Refractory(refs=("Condition/ref",))],
        cns_conditions=[CnsCondition(refs=("Condition/cns",), onset=parse_fhir_date("2020"))],
        measurements=[
            Measurement(refs=("Observation/m1", "Observation/shared"), kind="marrow-blasts",
                        when=DAY, value=65.0),
            Measurement(refs=("Observation/m2",), kind="csf-wbc", when=DAY, value=4.0,
                        comparator="<")],
        findings=[
            Finding(refs=("Observation/f1", "Observation/shared"), kind="cd19", when=DAY,
                    positive=True, percent=87.5),
            Finding(refs=("Observation/f2",), kind="csf-blasts", when=DAY, positive=False)],
        mrd=[Mrd(refs=("Observation/mrd",), when=DAY, fraction=0.0001, comparator="<",
                 method="flow")],
        genetics=[GeneticFinding(refs=("Observation/g",), finding="KMT2A")],
        therapies=[Therapy(refs=("MedicationStatement/t",), agent="methotrexate", status="given",
                           start=DAY, intrathecal=True)],
        procedures=[ProcedureFact(refs=("Procedure/p",), kind="hsct-allogeneic", status="done",
                                  when=DAY)],
    )


def test_every_kind_of_fact_is_named_as_the_cards_show_it() -> None:
    records = records_of(_facts())
    assert [(ref, r.what, r.when) for ref, r in records.items()] == [
        ("Condition/dx", "ALL diagnosis (B-ALL)", "2018-01"),
        ("Condition/rel", "relapse", "2020-07-20"),
        ("Condition/ref", "refractory ALL", None),
        ("Condition/cns", "CNS leukaemia", "2020"),
        ("Observation/m1", "marrow blasts 65%", "2020-07-20"),
        ("Observation/shared", "marrow blasts 65%", "2020-07-20"),  # the first of two facts
        ("Observation/m2", "CSF leukocytes <4/µL", "2020-07-20"),
        ("Observation/f1", "CD19 on the blasts positive, 87.5%", "2020-07-20"),
        ("Observation/f2", "CSF blasts negative", "2020-07-20"),
        ("Observation/mrd", "marrow MRD < 0.01%", "2020-07-20"),
        ("Observation/g", "genetic finding KMT2A", None),
        ("MedicationStatement/t", "methotrexate intrathecal, given", "2020-07-20"),
        ("Procedure/p", "allogeneic HSCT, done", "2020-07-20"),
    ]


def test_a_record_is_the_same_whichever_of_its_words_is_read_first() -> None:
    first, again = records_of(_facts()), records_of(_facts())
    marrow = first["Observation/m1"]
    assert marrow.when == "2020-07-20" and marrow.what == "marrow blasts 65%"  # when read first
    assert again["Observation/m1"] == marrow and hash(again["Observation/m1"]) == hash(marrow)
    assert "marrow blasts 65%" in repr(marrow)
    made = Record("marrow blasts 65%", "2020-07-20")  # a record made of its words, as tests do
    assert (made.what, made.when) == (marrow.what, marrow.when)
