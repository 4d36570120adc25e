"""Tests of pipeline/normalize.py: text cleaning and the offset map back to the raw text."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from pipeline.normalize import find_title, latex_to_text, normalize

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
LONG = "No cytokine release syndrome was seen in the three patients treated in this study, nor"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # LaTeX math left by PDF-to-markdown conversion
        ("tumor necrosis factor- $\\alpha$  (TNF $\\alpha$ ) and", "tumor necrosis factor-α (TNFα) and"),
        ("CD19 $^{+}$  B cells", "CD19+ B cells"),
        ("TNF $\\alpha$  CAR", "TNFα CAR"),
        ("IFN-$\\gamma$ and IL-1$\\beta$", "IFN-γ and IL-1β"),
        ("mean $\\pm$ SD", "mean ± SD"),
        ("age $\\geq$ 18 years", "age ≥ 18 years"),
        ("5 $\\times 10^{9}$/L", "5 ×10^9/L"),
        ("costs $5 and $10", "costs $5 and $10"),
        ("TNF\\alpha blockade", "TNFα blockade"),
        # HTML superscripts: citations dropped, signs and exponents kept
        ("progressive disability.<sup>1</sup> Treatment", "progressive disability. Treatment"),
        ("osteoclastogenesis.<sup>5,6</sup> Recently", "osteoclastogenesis. Recently"),
        ("reported<sup>13–15</sup>.", "reported."),
        ("CD19<sup>+</sup> B cells", "CD19+ B cells"),
        ("CD4<sup>−</sup> cells", "CD4- cells"),
        ("4.2 ×10<sup>9</sup>/L", "4.2 ×10^9/L"),
        ("1.73 m<sup>2</sup>", "1.73 m^2"),
        ("CO<sub>2</sub> retention", "CO2 retention"),
        ("a &lt; b &amp; c", "a < b & c"),
        ("x<br>y", "x\ny"),
        ("see <https://doi.org/10.1/x>", "see https://doi.org/10.1/x"),
        ("see [the trial](https://example.org/t)", "see the trial"),
        # markdown
        ("**Fig. 1** Clinical safety", "Fig. 1 Clinical safety"),
        ("*N. Engl. J. Med.* **388**, 529–542", "N. Engl. J. Med. 388, 529-542"),
        ("# Title\n\ntext", "Title\n\ntext"),
        ("## REFERENCES\n1. A", "REFERENCES\n1. A"),
        ("a\n\n---\n\nb", "a\n\nb"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("p\\*", "p*"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "| a | b |\n|---|---|\n| 1 | 2 |"),
        # characters
        ("ﬁbrosis and ﬂare", "fibrosis and flare"),
        ("treat\u00adment", "treatment"),
        ("5\u00a0mg and 10\u2009mg", "5 mg and 10 mg"),
        ("‘rapid’ and “profound”", "'rapid' and \"profound\""),
        ("\u22120.5 and \u2212 2", "-0.5 and - 2"),
        ("range 0–52", "range 0-52"),
        ("days 3 – 7", "days 3 - 7"),
        ("therapy – fatigue", "therapy – fatigue"),
        ("Fig. S1a–d", "Fig. S1a–d"),
        ("5 \u03bcmol/L", "5 µmol/L"),
        ("a\u200bb\x07c", "abc"),
        # powers of ten
        ("4.5 x 10^9/L", "4.5 ×10^9/L"),
        ("4.5 × 10⁹/L", "4.5 ×10^9/L"),
        ("4.5×109/L", "4.5×10^9/L"),
        ("4.5 x10E9/L", "4.5 ×10^9/L"),
        ("200 × 10^3 cells", "200 ×10^3 cells"),
        ("10⁶ copies", "10^6 copies"),
        ("n = 109 patients", "n = 109 patients"),
        # whitespace
        ("  a  b \t c  \n\n\n\n d  ", "a b c\n\nd"),
        ("line one\r\nline two\r\n", "line one\nline two"),
        (LONG + " or\n\n \nimmune effector", LONG + " or immune effector"),
        ("Methods and results\n\nthe trial", "Methods and results\n\nthe trial"),
        ("ends here.\n\n\nnext", "ends here.\n\nnext"),
        ("page one\fPage two", "page one\n\nPage two"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize(raw)[0] == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("\\alpha", "α"),
        ("^{+}", "+"),
        ("^{-}", "-"),
        ("\\mathrm{CD}4^{+}", "CD4+"),
        ("10^{9}", "10^9"),
        ("\\mu \\mathrm{g}", "µ g"),
        ("\\text{IL}-1\\beta", "IL-1β"),
        ("p < 0.05", "p < 0.05"),
    ],
)
def test_latex_to_text(body: str, expected: str) -> None:
    assert latex_to_text(body) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "TNF $\\alpha$  (CD19<sup>+</sup>) **bold** <https://x.org>\n\n\n# H\n\n×10<sup>9</sup>/L ﬁ\u00a0x",
        "plain text, nothing to change.",
        "  lead\n\n\n",
        "\ufeffBOM first",
    ],
)
def test_offset_map_shape_and_monotone(raw: str) -> None:
    text, offsets = normalize(raw)
    assert len(offsets) == len(text) + 1
    assert offsets[-1] == len(raw)
    assert all(a <= b for a, b in zip(offsets, offsets[1:]))
    assert all(0 <= o <= len(raw) for o in offsets)


@pytest.mark.parametrize("raw", ["plain words here", "**Fig. 1** Clinical", "disease.<sup>1</sup> Treatment of RA"])
def test_offset_map_points_to_same_characters(raw: str) -> None:
    text, offsets = normalize(raw)
    for i, ch in enumerate(text):
        if ch.isalnum():
            assert raw[offsets[i]] == ch, (i, ch)


def test_offset_map_math_points_into_math() -> None:
    raw = "factor TNF $\\alpha$ here"
    text, offsets = normalize(raw)
    i = text.index("α")
    assert raw[offsets[i]:offsets[i] + 6] == "\\alpha"


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("LETTER\n\n# Fourth-generation CAR T\n\ntext", "Fourth-generation CAR T"),
        ("\n\nClaims that CAR T could be ‘a shift’\n\nbody", "Claims that CAR T could be 'a shift'"),
        ("", None),
    ],
)
def test_find_title(raw: str, title: str | None) -> None:
    text, offsets = normalize(raw)
    assert find_title(raw, text, offsets) == title


# The gold annotations index the normalized seed documents: a change here invalidates them.
SEED_TEXT_SHA256 = {
    "eular2025_cart_d2t_ra_case.txt": "dfda0bf083ba",
    "li2025_cellres_cart_ra_letter.txt": "a2618146bdc0",
}


@pytest.mark.parametrize("name", sorted(SEED_TEXT_SHA256))
def test_seed_normalization_is_frozen(name: str) -> None:
    text, _ = normalize((CORPUS / name).read_text(encoding="utf-8"))
    assert hashlib.sha256(text.encode("utf-8")).hexdigest()[:12] == SEED_TEXT_SHA256[name]


def test_seed_letter_is_clean() -> None:
    text, _ = normalize((CORPUS / "li2025_cellres_cart_ra_letter.txt").read_text(encoding="utf-8"))
    for leftover in ("<sup>", "$", "\\alpha", "**", "## ", "<http", "  ", " \n"):
        assert leftover not in text
    assert "CD19+ B cells vanished" in text
    assert "(CD19/aIL-6/aTNFα) in treating" in text
    assert "disability. Treatment of RA" in text


@pytest.mark.parametrize(
    "raw",
    [
        "$" * 200_000,
        "*" * 200_000,
        "<sup>" * 50_000,
        " " * 500_000 + "x",
        "a\n" * 200_000,
        "**a " * 100_000,
        "10" * 100_000,
    ],
)
def test_pathological_input_is_fast(raw: str) -> None:
    started = time.perf_counter()
    text, offsets = normalize(raw)
    assert time.perf_counter() - started < 5
    assert len(offsets) == len(text) + 1


def test_ten_megabytes_in_seconds() -> None:
    seed = (CORPUS / "li2025_cellres_cart_ra_letter.txt").read_text(encoding="utf-8")
    raw = seed * (10_000_000 // len(seed) + 1)
    started = time.perf_counter()
    text, offsets = normalize(raw)
    elapsed = time.perf_counter() - started
    assert len(offsets) == len(text) + 1
    assert elapsed < 30, elapsed
