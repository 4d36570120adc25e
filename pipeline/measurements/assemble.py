"""The assembler: every measurement, patient and dose of one document, sentence by sentence, then tables.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import replace

import regex as re

from pipeline.binding import is_link_gap, masked_gap, reachable
from pipeline.document import Table
from pipeline.measurements.doses import _doses
from pipeline.measurements.exclusions import (
    excluded_number,
    excluded_regions,
    time_list_positions,
)
from pipeline.measurements.grammar import parse_stretch, read_values, value_lists
from pipeline.measurements.mentions import (
    baseline_phrases,
    finding_mentions,
    governing_times,
    merge_analyte_mentions,
    with_specimen,
)
from pipeline.measurements.model import (
    Assembly,
    Context,
    Group,
    Mention,
    UnitNormalizer,
    Value,
    ValueList,
)
from pipeline.measurements.resolve import (
    _emit,
    _update_carry,
    _update_focus,
    _update_fronted,
)
from pipeline.measurements.tables import table_measurements
from pipeline.measurements.units import default_unit_normalizer, with_label_unit
from pipeline.patients import (
    PatientMention,
    case_sections,
    find_patient_mentions,
    find_patients,
)
from pipeline.record import Measurement
from pipeline.value_forms import qualitative_result, read_companions
from pipeline.values import NumberMatch, find_numbers

# a number word in a value position ("had fallen to two and ..."), not a count of something ("two patients")
_WORD_VALUE_BEFORE = re.compile(r"\b(?:to|from|of|was|were|is|are)\s+$", re.IGNORECASE)
_WORD_VALUE_AFTER = re.compile(r"^\s*(?:[,.;:)]|(?:and|or|at|in|on|by|points?)\b|$)", re.IGNORECASE)
_BLANKS = re.compile(r"[ \t]+")
_FINDING_GAP = re.compile(r"\s*\(\s*(?:[^\W\d]+\s*){0,2}[:=]?\s*")
_ABBREVIATION_GAP = re.compile(r"\s*\(\s*")
_COORD_GAP = re.compile(r"\s*\)?\s*(?:,\s*)?(?:and\s+|&\s+)?(?:the\s+)?(?:(?:blood|serum|plasma|urine|urinary|arterial|total)\s+)?")
_SHARED_UNIT_GAP = re.compile(r"\s*(?:and|&)\s+[^\d,;:()]{1,30}?\s*(?:was|of|=|:)?\s*")
_DEMOGRAPHIC = re.compile(r"\b\d{1,3}[- ]year[- ]old\b|\baged\s+\d", re.IGNORECASE)
_FALLBACK_SENTENCE_END = re.compile(r"(?<!\b(?:Fig|Figs|al|vs|No|no|e\.g|i\.e|approx|ca))[.!?](?=\s+[A-Z(\[])|\n\s*\n")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def sentence_bounds_fallback(text: str) -> list[tuple[int, int]]:
    """Sentences when the Doc has none: split after ``.!?`` before a capital or a blank line."""
    bounds, start = [], 0
    for m in _FALLBACK_SENTENCE_END.finditer(text):
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, len(text)))
    return [(a, b) for a, b in bounds if text[a:b].strip()]


def paragraph_starts(text: str) -> list[int]:
    """Offsets where paragraphs (blocks separated by a blank line) start."""
    return [0] + [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]


def _within(mentions: list[Mention], starts: list[int], s0: int, s1: int) -> list[Mention]:
    """The mentions (sorted by start; ``starts`` their starts) lying inside ``[s0, s1)``."""
    return [m for m in mentions[bisect_left(starts, s0):bisect_left(starts, s1)] if m.end <= s1]


def assemble(text: str, sentences: Sequence[tuple[int, int]], entities: Sequence[Mention],
             tables: Sequence[Table] = (), *, normalizer: UnitNormalizer | None = None,
             carry_over: bool = True) -> Assembly:
    """All measurements, patients and doses of one document (pure: plain data in, plain data out)."""

    normalizer = normalizer or default_unit_normalizer()
    cohort = find_patients(text)
    cohort_ids = tuple(p.id for p in cohort)
    sections = case_sections(text)
    analytes_all = merge_analyte_mentions([e for e in entities if e.label in ("SCORE", "LAB")], text)
    drugs_all = [e for e in entities if e.label == "DRUG"]
    times_all = [e for e in entities if e.label == "TIMEPOINT"]
    skip = excluded_regions(text)
    time_positions = time_list_positions(text)
    paragraphs = paragraph_starts(text)
    measurements: list[tuple[int, Measurement]] = []
    doses: list[dict] = []
    ctx = Context()

    in_tables = [(t.start, t.end) for t in tables]
    # mentions sorted by start, so each sentence finds its own by bisection (linear overall)
    analytes_all.sort(key=lambda m: m.start)
    drugs_all.sort(key=lambda m: m.start)
    times_all.sort(key=lambda m: m.start)
    analyte_starts = [m.start for m in analytes_all]
    drug_starts = [m.start for m in drugs_all]
    time_starts = [m.start for m in times_all]
    for sent_index, (s0, s1) in enumerate(sentences):
        if any(a <= s0 < b for a, b in skip):
            continue
        lead = len(text[s0:s1]) - len(text[s0:s1].lstrip())
        paragraph = bisect_right(paragraphs, s0 + lead) - 1
        if paragraph != ctx.paragraph:
            ctx = Context(paragraph=paragraph)
        ctx.section = next(((pid,) for a, b, pid in sections if a <= s0 < b), None)
        analytes = _within(analytes_all, analyte_starts, s0, s1)
        times = _within(times_all, time_starts, s0, s1)
        analytes = sorted([with_specimen(text, a) for a in analytes] + finding_mentions(text, s0, s1, analytes + times),
                          key=lambda a: a.start)
        drugs = [d for d in _within(drugs_all, drug_starts, s0, s1)
                 if not any(t.start <= d.start and d.end <= t.end for t in times)]
        times = times + baseline_phrases(text, s0, s1, times)
        times.sort(key=lambda t: t.start)
        pmentions = [PatientMention(p.start + s0, p.end + s0, cohort_ids if len(cohort_ids) == 1 else p.ids, p.text)
                     for p in find_patient_mentions(text[s0:s1])]
        blocked = [(e.start, e.end) for e in analytes + drugs + times] + [(p.start, p.end) for p in pmentions]
        # an analyte reaches its values over time and patient mentions (pipeline/binding.py)
        masks = [(t.start, t.end) for t in times] + [(p.start, p.end) for p in pmentions]
        # a period ("over a 6-month period") is not a time point: it blocks its numbers but governs no value
        times = governing_times(times)
        blocked += in_tables  # table cells are read by table_measurements
        numbers = []
        for n in find_numbers(text[s0:s1]):
            n = NumberMatch(n.start + s0, n.end + s0, n.parsed, n.is_word)
            if any(a < n.end and n.start < b for a, b in blocked) or n.start in time_positions:
                continue
            if excluded_number(text, n.start, n.end, maximum=n.parsed.maximum):
                continue
            numbers.append(n)
        owners = sorted(analytes + drugs, key=lambda o: o.start)
        sentence_measurements: list[Measurement] = []
        demographic = bool(_DEMOGRAPHIC.search(text[s0:s1]))
        for k, owner in enumerate(owners):
            nxt = owners[k + 1].start if k + 1 < len(owners) else s1
            own = [n for n in numbers if owner.end <= n.start < nxt and (not n.is_word or _word_value(text, n))
                   and not _precedes(text, n, owners[k + 1:], normalizer)]
            pre = [n for n in numbers if n.end <= owner.start and _directly_before(text, n, owner, normalizer)]
            if owner.norm.get("finding"):  # "hyperkalemia (8.61 mmol/L)": only the value opening the parenthesis
                own, pre = [n for n in own[:1] if _FINDING_GAP.fullmatch(text[owner.end:n.start])], []
            if owner.label == "DRUG":
                doses.extend(_doses(text, owner, own, nxt, normalizer))
                continue
            kind = owner.kind
            vals = read_companions(text, read_values(text, pre + own, kind=kind, limit=nxt, normalizer=normalizer),
                                   text[s0:s1])
            after = [v for v in vals if v.start >= owner.end]
            reach = reachable(text, owner.end, [(v.start, v.end) for v in after], masks)
            vals = [v for v in vals if v.start < owner.end] + after[:reach]
            coordinated = _coordinated_analytes(text, analytes, owner)
            if not vals:
                found = qualitative_result(text, owner.end, nxt, lambda pos: is_link_gap(
                    masked_gap(text, owner.end, pos, masks)))
                if found is not None and owner.kind == "lab":
                    q = Value(found[0], found[1], None, result=found[2], text=text[found[0]:found[1]])
                    group = Group(ValueList([q] * len(coordinated)))
                    sentence_measurements.extend(_emit(
                        text, group, coordinated, ctx, sent_index, [], [t for t in times if t.start >= owner.end],
                        [p for p in pmentions if p.end <= owner.start], cohort_ids, demographic, (s0, s1),
                        carry_over))
                continue
            if after[:reach]:
                vals = with_label_unit(text, owner.end, after[0].start, vals, normalizer)
            lists = value_lists(text, vals)
            seg_times = [t for t in times if owner.end <= t.start < nxt]
            seg_patients = [p for p in pmentions if owner.end <= p.start < nxt]
            groups, free_times, leading = parse_stretch(text, lists, seg_times, seg_patients, owner.end, nxt)
            sent_times = [t for t in times if t not in seg_times and not any(
                o.end <= t.start < (owners[j + 1].start if j + 1 < len(owners) else s1)
                for j, o in enumerate(owners) if o is not owner and o.start > owner.start)]
            before_patients = [p for p in pmentions if p.end <= owner.start]
            for group in groups:
                made = _emit(text, group, coordinated if len(coordinated) > 1 else [owner], ctx, sent_index,
                             free_times, sent_times, before_patients, cohort_ids, demographic, (s0, s1), carry_over)
                sentence_measurements.extend(made)
        _share_units_across_analytes(text, sentence_measurements)
        measurements.extend((m.evidence.start, m) for m in sentence_measurements)
        if carry_over:
            _update_carry(ctx, times, sentence_measurements)
            _update_fronted(ctx, text, s0, s1, times)
        _update_focus(ctx, pmentions)
    for table in tables:
        for m in table_measurements(text, table, analytes_all, governing_times(times_all), cohort_ids,
                                    normalizer=normalizer):
            measurements.append((table.start, m))
    ordered = [m for _, m in sorted(enumerate(measurements), key=lambda x: (x[1][0], x[0]))]
    final = [replace(m, id=f"m{i}") for i, (_, m) in enumerate(ordered, start=1)]
    return Assembly(final, [p.to_dict() for p in cohort], doses)


def _precedes(text: str, n: NumberMatch, later: Sequence[Mention], normalizer: UnitNormalizer) -> bool:
    return bool(later) and _directly_before(text, n, later[0], normalizer)


def _directly_before(text: str, n: NumberMatch, owner: Mention, normalizer: UnitNormalizer) -> bool:
    """"twelve tender joints", "8 swollen joints": a count right before its analyte (a score)."""
    gap = text[n.end:owner.start]
    return owner.label != "DRUG" and owner.kind == "score" and bool(_BLANKS.fullmatch(gap))


def _coordinated_analytes(text: str, analytes: Sequence[Mention], owner: Mention) -> list[Mention]:
    """Analytes joined by ", "/"and" right before ``owner`` ("HAQ-DI and SDAI were ...")."""
    chain = [owner]
    before = [a for a in analytes if a.end <= owner.start]
    for a in reversed(before):
        gap = text[a.end:chain[0].start]
        if a.analyte == chain[0].analyte and _ABBREVIATION_GAP.fullmatch(gap):
            chain[0] = a  # "the clinical disease activity index (CDAI)": one analyte, named twice
        elif _COORD_GAP.fullmatch(gap):
            chain.insert(0, a)
        else:
            break
    return chain


def _word_value(text: str, n: NumberMatch) -> bool:
    """A number word standing as a value ("fell to two and ...")."""
    return bool(_WORD_VALUE_BEFORE.search(text[max(0, n.start - 12):n.start])
                and _WORD_VALUE_AFTER.match(text[n.end:n.end + 12]))


def _share_units_across_analytes(text: str, made: list[Measurement]) -> None:
    """"IgG 6.1 and IgM 0.4 g/l": a unit after the last of two lab values joined by "and" applies to the first
    (not across a list: in "AST 112, ALT 47, albumin 2.1 g/dL" the unit is albumin's alone)."""
    for i in range(len(made) - 2, -1, -1):
        m, nxt = made[i], made[i + 1]
        if m.unit is None and nxt.unit is not None and m.kind == nxt.kind == "lab" and m.analyte != nxt.analyte \
                and m.evidence == nxt.evidence and "unit_shared" not in m.flags and m.value_span and nxt.value_span \
                and _SHARED_UNIT_GAP.fullmatch(text[m.value_span.end:nxt.value_span.start]):
            made[i] = replace(m, unit=nxt.unit, unit_ucum=nxt.unit_ucum, flags=sorted(m.flags + ["unit_shared"]))
