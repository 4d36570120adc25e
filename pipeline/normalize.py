"""Text normalization with an offset map back to the raw text.

``normalize(raw) -> (text, offset_map)``: ``text[i]`` came from ``raw[offset_map[i]]``
and ``offset_map[len(text)] == len(raw)``. The map is non-decreasing, so a span
of the normalized text maps to one contiguous raw span.

The cleaning undoes what PDF-to-markdown/HTML conversions leave in clinical
papers, in five linear passes (each a single ``regex.finditer`` over bounded
patterns, guarded by a timeout):

1. characters: CRLF -> LF, form feed -> paragraph break, control and zero-width
   characters and soft hyphens dropped, NBSP / thin / other unicode spaces ->
   space, ligatures (ﬁ -> fi), curly quotes -> ASCII quotes, unicode minus and
   hyphen variants -> ``-``, Greek small mu -> micro sign ``µ`` (one spelling
   for units such as µmol/L).
2. markup: HTML entities; ``<sup>``: citation markers (digits, commas, ranges,
   ``*†‡``) are dropped, signs kept (``CD19<sup>+</sup>`` -> ``CD19+``), powers
   of ten and unit powers written with a caret (``10<sup>9</sup>`` -> ``10^9``,
   ``m<sup>2</sup>`` -> ``m^2``); ``<sub>`` kept inline (CO<sub>2</sub> -> CO2);
   other inline tags dropped, ``<br>`` -> newline; ``<https://...>`` -> URL;
   markdown links ``[text](url)`` -> text; inline LaTeX math ``$...$`` converted
   (``$\\alpha$`` -> ``α``, ``$^{+}$`` -> ``+``, ``\\pm`` -> ``±``, ``\\geq`` -> ``≥``)
   and glued to the preceding word when it is a letter or sign that converters
   split off (``TNF $\\alpha$ )`` -> ``TNFα)``); bare ``\\alpha`` too.
3. markdown: heading markers (``## REFERENCES`` -> ``REFERENCES``), emphasis
   (``**Fig. 1**``, ``*N. Engl. J. Med.*``, ``__x__``), blockquote markers,
   horizontal rules, backslash escapes.
4. numbers: en dash between digits -> ``-`` (ranges ``529–542`` -> ``529-542``;
   an en dash in prose, ``therapy – fatigue``, is kept), ``×10^9/L`` spellings
   (``x 10^9/L``, ``× 10⁹/L``, ``x10E9/L`` and the flattened ``×109/L``) -> ``×10^9/L``.
5. whitespace: runs of spaces/tabs -> one space, no trailing spaces, blank
   lines -> one paragraph break ``\\n\\n``; a paragraph break inside a sentence
   (previous paragraph ends in a lowercase letter or comma and the next starts
   with a lowercase letter: a page break in the conversion) -> one space; the
   text is stripped at both ends. Single newlines are kept.
"""
from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

import regex

TIMEOUT_S = 60.0  # guards against pathological input; every pattern below is bounded
JOIN_MIN_LINE = 80  # a paragraph this long ending mid-sentence was cut by a page break, not a heading

# A piece of output: (string, source index, verbatim). Verbatim pieces map char j to
# source index + j; other pieces map every char to the source index.
Piece = tuple[str, int, bool]

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "µ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
LATEX_SYMBOLS = {
    **GREEK,
    "pm": "±", "mp": "∓", "times": "×", "cdot": "·", "div": "÷", "geq": "≥", "ge": "≥",
    "leq": "≤", "le": "≤", "geqslant": "≥", "leqslant": "≤", "neq": "≠", "ne": "≠",
    "approx": "≈", "sim": "~", "simeq": "≃", "lt": "<", "gt": ">", "circ": "°", "degree": "°",
    "prime": "′", "rightarrow": "→", "to": "→", "leftarrow": "←", "uparrow": "↑",
    "downarrow": "↓", "infty": "∞", "bullet": "•", "ldots": "...", "dots": "...", "cdots": "...",
    "%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}",
    ",": " ", ";": " ", ":": " ", "!": "", " ": " ", "quad": " ", "qquad": " ",
    "mathrm": "", "text": "", "textrm": "", "mathbf": "", "textbf": "", "mathit": "",
    "textit": "", "operatorname": "", "mathsf": "", "boldsymbol": "", "bf": "", "rm": "",
    "it": "", "left": "", "right": "", "big": "", "Big": "",
}
GLUE_START = set(GREEK.values()) | {"′"}

CHAR_MAP = {
    "\u00a0": " ", "\u2000": " ", "\u2001": " ", "\u2002": " ", "\u2003": " ", "\u2004": " ",
    "\u2005": " ", "\u2006": " ", "\u2007": " ", "\u2008": " ", "\u2009": " ", "\u200a": " ",
    "\u202f": " ", "\u205f": " ", "\u3000": " ", "\t": "\t",
    "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
    "\ufb05": "st", "\ufb06": "st",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "′",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-", "\ufe63": "-", "\uff0d": "-",
    "\u03bc": "µ",
    "\f": "\n\n", "\v": "\n", "\u2028": "\n", "\u2029": "\n\n", "\u0085": "\n",
}
SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")

_CHAR_RE = regex.compile(
    r"\r\n?|[\x00-\x08\x0e-\x1f\x7f" + "".join(regex.escape(c) for c in CHAR_MAP if c != "\t") + "]"
)

_UNIT_BASES = r"(?:[cmdkµu]?m|[cmdµu]?L|s|h|min)"
_MARKUP_RE = re.compile(
    r"""
    (?=[&<!\[$\\ \t])  # cheap first-character filter for the alternatives below
    (?:(?P<entity>&(?:[a-zA-Z]{2,8}|\#\d{1,6}|\#x[0-9a-fA-F]{1,6});)
  | <(?P<suptag>sup|sub)>(?P<supbody>[^<>\n]{0,40})</(?P=suptag)>
  | (?P<br><br\s{0,3}/?>)
  | (?P<tag></?(?:i|b|em|strong|u|span|small|font|mark|s|strike|div|p)\b[^<>\n]{0,200}>)
  | <(?P<url>(?:https?|ftp)://[^<>\s]{1,2000}|mailto:[^<>\s]{1,300})>
  | (?P<image>!?)\[(?P<linktext>[^\[\]\n]{1,300})\]\((?P<linkurl>[^()\s]{1,2000})\)
  | (?:(?<=\S)(?P<mathpre>[ \t]{1,3}))?(?<!\\)\$(?P<math>[^$\n]{0,200}?[\\^_{][^$\n]{0,200}?)\$
  | \\(?P<bare>alpha|beta|gamma|delta|kappa|lambda|mu|sigma|tau|omega|pm|times|geq|leq)(?![A-Za-z]))
    """,
    re.VERBOSE,
)
_CITATION_RE = regex.compile(r"[\d\s,;–—\-−]+|[*†‡§¶#]+|[a-h]")
_LATEX_TOKEN_RE = regex.compile(r"\\([A-Za-z]+|.)|(\^|_)(\{[^{}]{0,40}\}|\\[A-Za-z]+|.)|[{}~]|[^\\^_{}~]+")
_SIGNED_DECIMAL_RE = regex.compile(r"[-+]?\d+(?:\.\d+)?")
_WHITESPACE_RE = regex.compile(r"\s+")
_SUP_NUMBER_RE = regex.compile(r"[-−+]?\d{1,3}")
_TEN_BEFORE_RE = regex.compile(r"(?:^|[^\d.,])10$")
_UNIT_BEFORE_RE = regex.compile(rf"(?<![A-Za-z]){_UNIT_BASES}$")

_MARKDOWN_RE = re.compile(
    r"""
    (?=[ \t\#>*_=\\-])
    (?:(?P<heading>^[ ]{0,3}\#{1,6}[ \t]+)
  | (?<![ \t])(?P<hclose>[ \t]+\#{1,6}[ \t]*$)
  | (?P<quote>^>[ ]?)
  | (?P<hr>^[ ]{0,3}(?:(?:\*[ ]?){3,}|(?:-[ ]?){3,}|(?:_[ ]?){3,}|={3,})[ \t]*$)
  | (?<![\w*\\])\*\*(?=[^\s*])(?P<body2>[^*\n]{1,300}?)(?<=[^\s\\])\*\*(?![\w*])
  | (?<![\w_\\])__(?=[^\s_])(?P<body3>[^_\n]{1,300}?)(?<=[^\s\\])__(?![\w_])
  | (?<![\w*\\])\*(?=[^\s*])(?P<body1>[^*\n]{1,300}?)(?<=[^\s\\])\*(?![\w*])
  | \\(?P<escaped>[\\`*_{}\[\]()\#+.!|<>$-]))
    """,
    re.VERBOSE | re.MULTILINE,
)
_NUMBER_RE = regex.compile(
    r"""
    (?=[–—×xX*1])
    (?:(?P<range>(?<=\d[ ]?)[–—](?=[ ]?\d))
  | (?<=\d[ ]?|^|[ (])(?P<times>[×xX*][ ]?)10[ ]?(?:\^|\*\*|[eE])?[ ]?(?P<exp>[-+]?\d{1,2}|[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})(?=[ ]?/|[ ]?(?:cells|copies|CFU|IU|U)\b)
  | (?<![\d.,])10(?P<supexp>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2}))
    """,
    regex.VERBOSE | regex.MULTILINE,
)
_SPACE_RE = regex.compile(r"(?<![ \t])(?:[ \t]*\n(?:[ \t]*\n)+[ \t]*|[ \t]*\n[ \t]*|[ \t]{2,}|\t)")


def _apply(text: str, offsets: list[int], pattern: "regex.Pattern[str] | re.Pattern[str]",
           repl: Callable[[Any], list[Piece]]) -> tuple[str, list[int]]:
    """Replace every match of ``pattern`` by ``repl``'s pieces, composing the offset map.

    Patterns from the stdlib ``re`` (faster, used where no variable-width
    lookbehind is needed) are bounded by construction; ``regex`` ones also get a timeout.
    """
    out: list[str] = []
    new_map: list[int] = []
    pos = 0
    try:
        if isinstance(pattern, re.Pattern):
            matches = list(pattern.finditer(text))
        else:
            matches = list(pattern.finditer(text, timeout=TIMEOUT_S))
    except TimeoutError as e:  # pragma: no cover - bounded patterns make this unreachable in practice
        raise ValueError(f"normalization timed out after {TIMEOUT_S} s") from e
    if not matches:
        return text, offsets
    for m in matches:
        if m.start() > pos:
            out.append(text[pos:m.start()])
            new_map.extend(offsets[pos:m.start()])
        for piece, src, verbatim in repl(m):
            if not piece:
                continue
            out.append(piece)
            if verbatim:
                new_map.extend(offsets[src:src + len(piece)])
            else:
                new_map.extend([offsets[src]] * len(piece))
        pos = m.end()
    out.append(text[pos:])
    new_map.extend(offsets[pos:])  # includes the end sentinel
    return "".join(out), new_map


def _chars(m: re.Match[str]) -> list[Piece]:
    s = m.group()
    if s.startswith("\r"):
        return [("\n", m.start(), False)]
    return [(CHAR_MAP.get(s, ""), m.start(), False)]


def latex_to_text(body: str) -> str:
    """Plain text of an inline LaTeX math body: ``\\alpha`` -> ``α``, ``^{+}`` -> ``+``, ``10^{9}`` -> ``10^9``."""
    out: list[str] = []
    for tok in _LATEX_TOKEN_RE.finditer(body):
        cmd, script, arg = tok.group(1), tok.group(2), tok.group(3)
        if cmd is not None:
            out.append(LATEX_SYMBOLS.get(cmd, cmd))
        elif script is not None:
            inner = arg[1:-1] if arg.startswith("{") else arg
            inner = latex_to_text(inner).strip() if ("\\" in inner or "{" in inner) else inner.strip()
            inner = inner.replace("−", "-")
            if script == "^" and _SIGNED_DECIMAL_RE.fullmatch(inner) and inner not in "+-":
                out.append("^" + inner)
            else:
                out.append(inner)
        elif tok.group() == "~":
            out.append(" ")
        elif tok.group() in "{}":
            continue
        else:
            out.append(tok.group())
    return _WHITESPACE_RE.sub(" ", "".join(out)).strip()


def _sup(m: re.Match[str]) -> list[Piece]:
    body = html.unescape(m.group("supbody")).strip()
    start = m.start("supbody")
    if m.group("suptag") == "sub":
        return [(body, start, False)]
    before = m.string[max(0, m.start() - 12):m.start()]
    numeric = _SUP_NUMBER_RE.fullmatch(body) is not None
    if numeric and (_TEN_BEFORE_RE.search(before) or _UNIT_BEFORE_RE.search(before)):
        return [("^" + body.replace("−", "-"), start, False)]
    if body in ("+", "-", "−", "±", "++", "--"):
        return [(body.replace("−", "-"), start, False)]
    if _CITATION_RE.fullmatch(body):
        return []
    return [(body, start, False)]


def _markup(m: re.Match[str]) -> list[Piece]:
    if m.group("entity") is not None:
        return [(html.unescape(m.group()).replace("\u00a0", " "), m.start(), False)]
    if m.group("suptag") is not None:
        return _sup(m)
    if m.group("br") is not None:
        return [("\n", m.start(), False)]
    if m.group("tag") is not None:
        return []
    if m.group("url") is not None:
        return [(m.group("url"), m.start("url"), True)]
    if m.group("linktext") is not None:
        return [(m.group("linktext"), m.start("linktext"), True)]
    if m.group("bare") is not None:
        return [(LATEX_SYMBOLS[m.group("bare")], m.start(), False)]
    if m.group("math") is not None:
        converted = latex_to_text(m.group("math"))
        pieces: list[Piece] = []
        pre = m.group("mathpre")
        if pre and not (converted and (converted[0] in GLUE_START or m.group("math").lstrip().startswith("^"))):
            pieces.append((" ", m.start(), False))
        pieces.append((converted, m.start("math"), False))
        return pieces
    raise AssertionError(m.group())  # pragma: no cover


_GLUE_AFTER_MATH_RE = regex.compile(rf"(?<=[{regex.escape(''.join(sorted(GLUE_START)))}+])[ \t]+(?=[)\],;:.])")


def _glue_after_math(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    """Drop spaces a converter left between glued math and closing punctuation: ``TNFα )`` -> ``TNFα)``."""
    return _apply(text, offsets, _GLUE_AFTER_MATH_RE, lambda m: [])


def _markdown(m: re.Match[str]) -> list[Piece]:
    if m.group("body2") is not None:
        return [(m.group("body2"), m.start("body2"), True)]
    for name in ("body1", "body3"):
        if m.group(name) is not None:
            return [(m.group(name), m.start(name), True)]
    if m.group("escaped") is not None:
        return [(m.group("escaped"), m.start("escaped"), True)]
    return []


def _numbers(m: re.Match[str]) -> list[Piece]:
    if m.group("range") is not None:
        return [("-", m.start(), False)]
    if m.group("times") is not None:
        exp = m.group("exp").translate(SUPERSCRIPT_DIGITS).lstrip("+")
        return [("×10^" + exp, m.start(), False)]
    exp = m.group("supexp").translate(SUPERSCRIPT_DIGITS).lstrip("+")
    return [("10^" + exp, m.start(), False)]


def _space(m: re.Match[str]) -> list[Piece]:
    s = m.group()
    if s.count("\n") >= 2:
        before = m.string[m.start() - 1:m.start()]
        after = m.string[m.end():m.end() + 1]
        line_start = m.string.rfind("\n", 0, m.start()) + 1
        if (before.islower() or before == ",") and after.islower() and m.start() - line_start >= JOIN_MIN_LINE:
            return [(" ", m.start(), False)]
        return [("\n\n", m.start() + s.index("\n"), False)]
    if "\n" in s:
        return [("\n", m.start() + s.index("\n"), False)]
    return [(" ", m.start(), False)]


def _strip(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    if start == 0 and end == len(text):
        return text, offsets
    return text[start:end], offsets[start:end] + [offsets[-1]]


def normalize(raw: str) -> tuple[str, list[int]]:
    """Normalized text and its offset map (length ``len(text) + 1``) into ``raw``."""
    text, offsets = raw, list(range(len(raw) + 1))
    text, offsets = _apply(text, offsets, _CHAR_RE, _chars)
    text, offsets = _apply(text, offsets, _MARKUP_RE, _markup)
    text, offsets = _glue_after_math(text, offsets)
    text, offsets = _apply(text, offsets, _MARKDOWN_RE, _markdown)
    text, offsets = _apply(text, offsets, _NUMBER_RE, _numbers)
    text, offsets = _apply(text, offsets, _SPACE_RE, _space)
    return _strip(text, offsets)


_HEADING_RE = regex.compile(r"^[ ]{0,3}#{1,6}[ \t]+(?P<title>\S[^\n]{0,500})$", regex.MULTILINE)


def find_title(raw: str, text: str, offset_map: Sequence[int]) -> str | None:
    """The document title: the first markdown heading, else the first non-empty line of ``text``."""
    m = _HEADING_RE.search(raw[:200_000])
    if m is not None:
        i = bisect_left(offset_map, m.start("title"), 0, len(text))
        line = text[i:].split("\n", 1)[0].strip()
        if line:
            return line[:500]
    for line in text.split("\n", 50)[:50]:
        if line.strip():
            return line.strip()[:500]
    return None
