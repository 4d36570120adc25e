"""Tests of pipeline/core.py: record assembly helpers."""
from __future__ import annotations

import pytest

from pipeline.core import _drugs, offset_segments


@pytest.mark.parametrize(
    ("offset_map", "expected"),
    [
        ([0, 1, 2, 3], [[0, 0, 3]]),
        ([0, 1, 5, 6, 7], [[0, 0, 2], [2, 5, 2]]),
        ([3, 3, 4, 9], [[0, 3, 1], [1, 3, 2]]),
        ([0], []),
        ([], []),
        ([5, 9], [[0, 5, 1]]),
        ([2, 1, 0, 7], [[0, 2, 1], [1, 1, 1], [2, 0, 1]]),
        ([0, 1, 2, 2, 3, 4, 10, 11, 12], [[0, 0, 3], [3, 2, 3], [6, 10, 2]]),
    ],
)
def test_offset_segments(offset_map: list[int], expected: list[list[int]]) -> None:
    assert offset_segments(offset_map) == expected


def test_drugs_group_mentions_by_normalized_name() -> None:
    ents = [
        {"id": "e1", "label": "DRUG", "text": "MTX", "norm": {"name": "methotrexate", "class": "csDMARD"}},
        {"id": "e2", "label": "LAB", "text": "ESR", "norm": {"analyte": "ESR"}},
        {"id": "e3", "label": "DRUG", "text": "Methotrexate", "norm": {"name": "methotrexate", "drugbank_id": "DB00563"}},
        {"id": "e4", "label": "DRUG", "text": "NSAIDs", "norm": {"name": "nsaid", "is_class": True}},
    ]
    doses = [{"entity_id": "e3", "text": "15 mg weekly", "value": 15, "unit": "mg", "frequency": "weekly"}]
    drugs = _drugs(ents, doses)
    assert [d["name"] for d in drugs] == ["methotrexate", "nsaid"]
    mtx = drugs[0]
    assert mtx["mentions"] == ["e1", "e3"]
    assert (mtx["class"], mtx["drugbank_id"]) == ("csDMARD", "DB00563")
    assert mtx["dose"] == doses
    assert drugs[1]["is_class"] is True and drugs[1]["dose"] is None


@pytest.mark.parametrize("seed", range(5))
def test_offset_segments_expand_back_to_the_map(seed: int) -> None:
    import random

    rng = random.Random(seed)
    raw, offset_map = 0, []
    for _ in range(300):
        raw += rng.choice([1, 1, 1, 1, 0, 2, 7])
        offset_map.append(raw)
    expanded = [raw_start + k for _, raw_start, length in offset_segments(offset_map) for k in range(length)]
    assert expanded == offset_map[:-1]
