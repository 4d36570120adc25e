"""pipeline.brat: record -> brat -> record round trip, parsing errors, and the authoring helper."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.brat import author_spec, export_brat, find_surface, import_brat, measurement_fields, parse_ann
from pipeline.errors import GoldError
from pipeline.record import validate_record

GOLD = Path(__file__).resolve().parents[1] / "corpus" / "gold"
FIX = Path(__file__).parent / "fixtures" / "eval"


def _core(record: dict) -> dict:
    return {"entities": record["entities"], "measurements": record["measurements"],
            "patients": record["patients"], "drugs": record["drugs"], "text": record["document"]["text"]}


@pytest.mark.parametrize("path", sorted(GOLD.glob("*.json")) + [FIX / "gold" / "doc_a.json"], ids=lambda p: p.stem)
def test_round_trip_keeps_entities_measurements_patients(path, tmp_path):
    record = json.loads(path.read_text(encoding="utf-8"))
    txt, ann = export_brat(record, tmp_path)
    assert txt.read_text(encoding="utf-8") == record["document"]["text"]
    back = import_brat(ann)
    validate_record(back)
    for key in ("entities", "measurements"):
        assert len(back[key]) == len(record[key])
    for got, want in zip(back["entities"], record["entities"]):
        assert {k: got[k] for k in ("id", "label", "text", "start", "end", "norm")} == \
               {k: want[k] for k in ("id", "label", "text", "start", "end", "norm")}
    for got, want in zip(back["measurements"], record["measurements"]):
        for key in ("id", "patient", "analyte", "value", "unit", "timepoint", "comparator"):
            assert got[key] == want.get(key)
        assert (got["evidence"]["start"], got["evidence"]["end"]) == (want["evidence"]["start"], want["evidence"]["end"])
    assert back["document"]["sha256"] == record["document"]["sha256"]
    assert back["document"]["text_sha256"] == record["document"]["text_sha256"]
    assert [(p["id"], p["age"], p["sex"]) for p in back["patients"]] == \
           [(p["id"], p["age"], p["sex"]) for p in record["patients"]]


def test_span_across_newline_is_written_as_fragments(tmp_path):
    record = json.loads((FIX / "gold" / "doc_a.json").read_text(encoding="utf-8"))
    text = "CD19 CAR\nT cells were given."
    record["document"].update(text=text)
    record.update(measurements=[], entities=[{"id": "e1", "label": "DRUG", "text": "CD19 CAR\nT cells", "start": 0,
                                              "end": 16, "source": "gold", "norm": {}}])
    _, ann = export_brat(record, tmp_path)
    assert "DRUG 0 8;9 16\tCD19 CAR T cells" in ann.read_text(encoding="utf-8")
    back = import_brat(ann)
    assert (back["entities"][0]["start"], back["entities"][0]["end"]) == (0, 16)


@pytest.mark.parametrize("ann,message", [
    ("T1\tDRUG 0 4\tXXXX\n", "text 'XXXX' != document text"),
    ("T1\tDRUG 0 400\tabc\n", "outside the text"),
    ("T1\tDRUG zero four\tabcd\n", "malformed brat line"),
])
def test_parse_ann_errors_name_the_line(ann, message):
    with pytest.raises(GoldError, match=message) as err:
        parse_ann(ann, "abcd efgh", path="x.ann")
    assert "line 1" in str(err.value)


def test_import_without_notes_numbers_entities_in_text_order(tmp_path):
    (tmp_path / "d.txt").write_text("methotrexate then CRP", encoding="utf-8")
    (tmp_path / "d.ann").write_text("T2\tLAB 18 21\tCRP\nT1\tDRUG 0 12\tmethotrexate\nR1\tRel Arg1:T1 Arg2:T2\n",
                                    encoding="utf-8")
    record = import_brat(tmp_path / "d.ann")
    assert [(e["id"], e["text"]) for e in record["entities"]] == [("e2", "CRP"), ("e1", "methotrexate")]
    assert record["drugs"][0]["name"] == "methotrexate"
    validate_record(record)


@pytest.mark.parametrize("text,surface,cursor,expected", [
    ("from 8 to 0 in patient 1, from 6 to 0", "0", 0, 10),
    ("from 8 to 0 in patient 1, from 6 to 0", "0", 11, 36),
    ("IL-6 then 6", "6", 0, 10),              # not the 6 of IL-6
    ("1.5 and 5", "5", 0, 8),                 # not the 5 of 1.5
    ("5.48 and 5", "5", 0, 9),                # not the 5 of 5.48
    ("CD19 CAR T cells", "CAR T", 0, 5),
    ("scarT CAR T", "CAR T", 0, 6),           # whole words only (case-sensitive)
    ("nothing here", "CRP", 0, -1),
])
def test_find_surface(text, surface, cursor, expected):
    assert find_surface(text, surface, cursor) == expected


@pytest.mark.parametrize("surface,unit,extras,value,comparator", [
    ("5.46", None, {}, 5.46, None), ("1,250", None, {}, 1250.0, None), (">340", None, {}, 340.0, ">"),
    ("<= 0.5", None, {}, 0.5, "<="), ("≥2", None, {}, 2.0, ">="), ("1,8", None, {}, 1.8, None),
    ("12 400", "ng/mL", {}, 12400.0, None), ("250\u2009000", None, {}, 250000.0, None),
    ("1:640", "titer", {}, 640.0, None), ("1/2560", "titer", {}, 2560.0, None), ("<1:40", "titer", {}, 40.0, "<"),
    ("negative", None, {"result": "negative"}, None, None), ("6.1", None, {"maximum": 8.4}, 6.1, None),
])
def test_measurement_fields(surface, unit, extras, value, comparator):
    fields = measurement_fields(surface, unit, extras)
    assert (fields["value"], fields["comparator"]) == (value, comparator)
    assert all(fields[k] == v for k, v in extras.items())


@pytest.mark.parametrize("surface,extras", [("negative", {}), ("5", {"colour": "red"}), ("neg", {"result": "neg"})])
def test_measurement_fields_rejects(surface, extras):
    with pytest.raises(GoldError):
        measurement_fields(surface, None, extras)


SPEC = """source\tx.txt
norm\tmtx\tDRUG\t{"name": "methotrexate", "is_class": false}
norm\tCRP\tLAB\t{"analyte": "CRP", "kind": "lab"}
norm\tweek 12\tTIMEPOINT\t{"kind": "timepoint", "value": 12, "unit": "week", "days": 84}
tp\tbl\t{"text": null, "is_baseline": true, "days": 0}
tp\tw12\t{"text": "week 12", "value": 12, "unit": "week", "days": 84, "is_baseline": false}
unit\tmg/L\tmg/L
E\tMTX\tmtx
E\tCRP
M\t20\t1\tCRP\tmg/L\tbl
M\t5\t1\tCRP\tmg/L\tw12
E\tweek 12
@\tCRP again
E\tCRP
"""
TEXT = "MTX was given. CRP fell from 20 mg/L to 5 mg/L at week 12. CRP again."


def test_author_spec_finds_items_in_text_order():
    ann, header = author_spec(SPEC, TEXT)
    spans, notes = parse_ann(ann, TEXT)
    got = [(s["label"], s["text"], s["start"]) for s in spans.values()]
    assert got == [("DRUG", "MTX", 0), ("LAB", "CRP", 15), ("Measurement", "20", 29), ("Measurement", "5", 40),
                   ("TIMEPOINT", "week 12", 50), ("LAB", "CRP", 59)]
    assert header == {"source": "x.txt"}
    m = notes["T4"]
    assert (m["id"], m["patient"], m["value"], m["unit_ucum"], m["timepoint"]["days"]) == ("m2", "1", 5.0, "mg/L", 84)
    assert notes["T6"]["id"] == "e4"


@pytest.mark.parametrize("bad,message", [
    ("E\tCRP\tnope\n", "no norm 'nope'"),
    ("E\tPCT\tCRP\n", "not found"),
    ("M\t20\t1\tESR\tmg/L\tbl\n", "analyte 'ESR'"),
    ("M\tCRP\t1\tCRP\tg/L\tbl\n", "not a number"),
    ("M\t20\t1\tCRP\tg/L\tbl\t{\"colour\": 1}\n", "unknown measurement key"),
    ("D\tCRP\tcrp\tmaybe\n", "unknown drug flag"),
    ("A\tHb\tblood\n", "kind 'blood'"),
    ("M\t20\t1\tCRP\tmg/L\tw99\n", "timepoint 'w99'"),
    ("X\tfoo\n", "unknown tag"),
    ("E\tCRP fell\tCRP\nE\tCRP\n", "not found"),       # same-label overlap is skipped, and there is no other
])
def test_author_spec_errors(bad, message):
    head = "\n".join(SPEC.splitlines()[:7]) + "\n"
    with pytest.raises(GoldError, match=message):
        author_spec(head + bad, TEXT.replace(" CRP again.", ""), path="s.spec")


def test_author_spec_caret_reuses_the_previous_value_span():
    text = "C3 and C4 were low."
    spec = "A\tC3\tlab\nA\tC4\tlab\nM\tlow\t1\tC3\t-\t-\t{\"result\": \"low\"}\nM\t^\t1\tC4\t-\t-\t{\"result\": \"low\"}\n"
    ann, _ = author_spec(spec, text)
    spans = [line.split("\t")[1] for line in ann.splitlines() if line.startswith("T")]
    assert spans == ["Measurement 15 18", "Measurement 15 18"]
    with pytest.raises(GoldError, match="needs a measurement"):
        author_spec("A\tC3\tlab\nM\t^\t1\tC3\t-\t-\t{\"result\": \"low\"}\n", text)
