import pytest

from pipeline.errors import RuleError
from pipeline.ruleset import SPECS, load_rules, parse_rules, rules_sha256, validate_rules


def test_ruleset_validate_rules_summarizes_every_file():
    lines = validate_rules()
    assert len(lines) == len(SPECS)
    assert all(" rules, " in line for line in lines)


def test_ruleset_sha256_is_stable_hex():
    assert rules_sha256() == rules_sha256()
    assert len(rules_sha256()) == 64


@pytest.mark.parametrize("name", sorted(SPECS))
def test_ruleset_every_file_loads_nonempty(name):
    assert load_rules(name)


@pytest.mark.parametrize(
    "spec, text, line, key",
    [
        ("drugs", '{"label": "DRUG", "id": "x", "pattern": "x", "colour": "red"}', 1, "colour"),
        ("drugs", '\n{"label": "DRUG", "pattern": "x"}', 2, "id"),
        ("drugs", '{"label": "DRUG", "id": "x", "synonyms": "notalist"}', 1, "synonyms"),
        ("drugs", '{"label": "LAB", "id": "x"}', 1, "label"),
        ("drugs", '{"label": "DRUG", "id": "x", "regex": ["(unclosed"]}', 1, "regex"),
        ("scores", '{"label": "SCORE", "id": "X", "kind": "score", "range": [9, 1]}', 1, "range"),
        ("labs", '{"label": "LAB", "id": "X", "kind": "score"}', 1, "kind"),
        ("units", '{"label": "UNIT", "pattern": "mg", "id": "mg", "ucum": "mg", "factor": "1"}', 1, "factor"),
        ("timepoints", '// comment\n{"label": "TIMEPOINT", "pattern": "x", "id": "x"}', 2, "kind"),
        ("timepoints", '{"label": "TIMEPOINT", "pattern": "x", "id": "x", "kind": "history"}', 1, "kind"),
    ],
)
def test_ruleset_errors_name_file_line_and_key(spec, text, line, key):
    with pytest.raises(RuleError) as info:
        parse_rules(text, SPECS[spec])
    err = info.value
    assert err.path == SPECS[spec].file
    assert err.line == line
    assert err.key == key
    assert f"line {line}" in str(err) and repr(key) in str(err)


def test_ruleset_bad_json_names_line():
    with pytest.raises(RuleError) as info:
        parse_rules('{"label": "DRUG", "id": "a"}\n{"label": ', SPECS["drugs"])
    assert info.value.line == 2 and "invalid JSON" in str(info.value)


def test_ruleset_unknown_file():
    with pytest.raises(RuleError):
        load_rules("nonexistent")


@pytest.mark.parametrize(
    "name, rule_id, key, expected",
    [
        ("drugs", "methotrexate", "abbreviations", ["MTX"]),
        ("drugs", "rituximab", "target", "CD20"),
        ("drugs", "KYV-101", "class", "CAR T-cell therapy"),
        ("scores", "FACIT-F", "range", [0, 52]),
        ("scores", "DAS28-ESR", "range", [0, 9.4]),
        ("labs", "anti-CCP", "kind", "lab"),
        ("labs", "B cells", "requires_cue", True),
        ("timepoints", "history", "kind", "history_before"),
    ],
)
def test_ruleset_lookups(name, rule_id, key, expected):
    rule = next(r for r in load_rules(name) if r["id"] == rule_id)
    assert rule[key] == expected
