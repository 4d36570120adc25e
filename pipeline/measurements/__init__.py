"""Measurements: link every reported value to its analyte, unit, patient and timepoint.

The ``clinex_measurements`` component reads the entity spans (``doc.spans["clinex"]``),
the sentences and ``doc._.clinex_tables`` and sets ``doc._.clinex_measurements``,
``doc._.clinex_patients``, ``doc._.clinex_derived`` and ``doc._.clinex_doses``.

The work is done by pure functions over plain data (``Mention`` objects with
character offsets), one sentence at a time:

1. numbers are found (``pipeline.values.find_numbers``) and the ones that are not
   measurements are set aside (``excluded_number``: ages, durations, dates,
   reference ranges, figure/reference/grant numbers, population statistics,
   patient counts);
2. each remaining number belongs to the analyte (SCORE/LAB mention) before it, or
   to the one it directly precedes ("twelve tender joints"); numbers after a drug
   with a dose unit are doses;
3. inside an analyte's stretch of text a small grammar reads value lists, "from A
   to B" pairs, their timepoints, "in patient N" and "respectively";
4. patients come from the stretch, from the sentence ("respectively" over the
   patients named earlier), from the order a previous sentence established
   (lists as long as the cohort), or from a single-patient cohort;
5. timepoints come from the value itself ("5.46 at baseline"), the clause, the
   sentence, then a carry-over ("at the 24-week follow-up") for the rest of the
   paragraph. In "from A to B" with no stated baseline, A is baseline (day 0) and
   B a follow-up whose time is left null unless stated.

The steps live in one module each: ``model`` (plain data), ``exclusions`` (numbers that are no
values), ``units`` (unit reading), ``mentions`` (analytes and times prepared), ``grammar`` (one
analyte's stretch: lists, "from A to B", "respectively"), ``resolve`` (patients and times),
``doses``, ``tables`` and ``assemble`` (the whole document). The spaCy factory is
``pipeline.components.measurements``.
"""
from __future__ import annotations

from pipeline.measurements.assemble import (
    assemble,
    paragraph_starts,
    sentence_bounds_fallback,
)
from pipeline.measurements.exclusions import (
    excluded_number,
    excluded_regions,
    time_list_positions,
)
from pipeline.measurements.grammar import (
    parse_stretch,
    read_values,
    share_unit,
    value_lists,
)
from pipeline.measurements.mentions import (
    BASELINE_DEFAULT,
    FOLLOW_UP_UNSTATED,
    baseline_phrases,
    governing_times,
    merge_analyte_mentions,
    timepoint_of,
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
from pipeline.measurements.patterns import BASELINE_RE
from pipeline.measurements.tables import (
    reference_flags,
    reference_range,
    row_table_measurements,
    table_measurements,
)
from pipeline.measurements.units import (
    default_unit_normalizer,
    read_unit,
    unit_fields,
    with_label_unit,
)

__all__ = [
    "Assembly",
    "BASELINE_DEFAULT",
    "BASELINE_RE",
    "Context",
    "FOLLOW_UP_UNSTATED",
    "Group",
    "Mention",
    "UnitNormalizer",
    "Value",
    "ValueList",
    "annotations",
    "assemble",
    "baseline_phrases",
    "default_unit_normalizer",
    "excluded_number",
    "excluded_regions",
    "governing_times",
    "merge_analyte_mentions",
    "paragraph_starts",
    "parse_stretch",
    "read_unit",
    "read_values",
    "reference_flags",
    "reference_range",
    "row_table_measurements",
    "sentence_bounds_fallback",
    "share_unit",
    "table_measurements",
    "time_list_positions",
    "timepoint_of",
    "unit_fields",
    "value_lists",
    "with_label_unit",
]
