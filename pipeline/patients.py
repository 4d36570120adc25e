"""The cohort of a case report and the patients each statement is about.

``find_patients(text)`` lists the patients with age and sex ("patient 1 is a
49-year-old, patient 2 a 52-year-old, and patient 3 a 56-year-old woman": the
sex word is shared across the list; "Case 2: a 58-year-old man"; "The third
patient"; a single unnumbered patient becomes patient "1").
``find_patient_mentions(text)`` finds "in patient 2", "patients 1 and 2",
"patient 1, patient 2, and patient 3", "case 3", "the second patient".
"""
from __future__ import annotations

from dataclasses import dataclass, field

import regex as re

ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
}
SEX_WORDS = {
    "woman": "F", "women": "F", "female": "F", "girl": "F", "lady": "F", "mother": "F",
    "man": "M", "men": "M", "male": "M", "boy": "M", "gentleman": "M", "father": "M",
}
# "pt"/"pts" only before a space, digit, "." or "#": "PTH" (parathyroid hormone) is no patient H
_NOUN = r"(?:patients?|pts?(?=[\s\d.#])|cases?|subjects?)"
_ID = (r"(?:\d{1,3}|(?-i:[A-H]))\b(?![.,]\d|-\w|\s*%|\s+to\b|\s*[-–]\s*\d"
       r"|[\s-]*(?:years?|yrs?|months?|weeks?|days?|hours?|h|d)\b)")
_LIST_SEP = r"(?:\s*,\s*(?:and\s+|&\s+)?|\s+(?:and|&|or)\s+)"
# "patient 1", "patients 1 and 2", "patients 1, 2 and 3", "patient no. 2", "P2" is left out (ambiguous).
_NUMBERED = re.compile(
    rf"\b(?P<noun>{_NOUN})(?:\s+(?:no\.?|number|#))?\s*(?P<ids>{_ID}(?:{_LIST_SEP}(?:{_NOUN}\s*)?{_ID})*)",
    re.IGNORECASE,
)
_ORDINAL = re.compile(
    rf"\b(?:the\s+)?(?P<ord>{'|'.join(ORDINALS)})\s+(?:{_NOUN})\b", re.IGNORECASE,
)
_AGE = re.compile(
    r"\b(?P<age>\d{1,3})[- ](?:year|yr)s?[- ]old\b|\baged\s+(?P<age2>\d{1,3})\b|\bage\s+(?:of\s+)?(?P<age3>\d{1,3})\b",
    re.IGNORECASE,
)
_SEX = re.compile(r"\b(?P<sex>" + "|".join(SEX_WORDS) + r")\b", re.IGNORECASE)
_SENT_END = re.compile(r"[.!?](?=\s+[A-Z(]|\s*$)")
_NOUN_RE = re.compile(_NOUN, re.IGNORECASE)
_ID_RE = re.compile(rf"(?<![\w.]){_ID}")


@dataclass(frozen=True)
class PatientMention:
    """A mention of one or more patients, with offsets into the text searched."""

    start: int
    end: int
    ids: tuple[str, ...]
    text: str = ""


@dataclass
class Patient:
    id: str
    age: float | None = None
    sex: str | None = None
    evidence: dict | None = field(default=None)

    def to_dict(self) -> dict:
        return {"id": self.id, "age": self.age, "sex": self.sex, "evidence": self.evidence}


def _ids(text: str) -> tuple[str, ...]:
    ids = _ID_RE.findall(_NOUN_RE.sub(" ", text))
    out: list[str] = []
    for i in ids:
        i = i.upper() if i.isalpha() else str(int(i))
        if i not in out:
            out.append(i)
    return tuple(out)


def find_patient_mentions(text: str) -> list[PatientMention]:
    """Numbered and ordinal patient mentions in text order."""
    found: list[PatientMention] = []
    for m in _NUMBERED.finditer(text):
        ids_text = m["ids"]
        ids = _ids(ids_text)
        if ids:
            found.append(PatientMention(m.start(), m.end(), ids, m.group(0)))
    for m in _ORDINAL.finditer(text):
        if not any(p.start <= m.start() < p.end for p in found):
            found.append(PatientMention(m.start(), m.end(), (str(ORDINALS[m["ord"].lower()]),), m.group(0)))
    found.sort(key=lambda p: p.start)
    return found


# "Case 1: a 74-year-old woman ...", "Patient 2", "## Case 3", "Case report 2." at the start of a line
_CASE_HEADING = re.compile(r"^[ \t#*]*(?:case|patient)(?:\s+(?:report|presentation|no\.?))?\s*(?P<id>\d{1,2})\b(?!\s*%)"
                           r"(?=\s*(?:[:.)–—-]|\n|$|\s+(?:a|an|was|is|the|\(|[A-Z])))", re.IGNORECASE | re.MULTILINE)
# a heading that ends the case sections (the discussion is about all patients, or none)
_END_OF_CASES = re.compile(r"^[ \t#*]*(?:discussion|conclusions?|summary|references|literature review|review of the literature)"
                           r"\b[ \t*]*$", re.IGNORECASE | re.MULTILINE)


def case_sections(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, patient id)`` of the text under each "Case N" / "Patient N" heading.

    A section runs to the next such heading or to a discussion/conclusion heading.
    """
    heads = [(m.start(), m["id"]) for m in _CASE_HEADING.finditer(text)]
    ends = [m.start() for m in _END_OF_CASES.finditer(text)]
    sections = []
    for k, (start, pid) in enumerate(heads):
        nxt = heads[k + 1][0] if k + 1 < len(heads) else len(text)
        stop = min([e for e in ends if start < e < nxt], default=nxt)
        sections.append((start, stop, str(int(pid))))
    return sections


def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    start = 0
    for m in _SENT_END.finditer(text, 0, pos):
        start = m.end()
    m = _SENT_END.search(text, pos)
    return start, (m.end() if m else len(text))


def _age_of(m: re.Match) -> float:
    return float(m["age"] or m["age2"] or m["age3"])


def find_patients(text: str) -> list[Patient]:
    """The cohort: numbered patients with age and sex where stated; one patient "1" when none is numbered."""
    mentions = find_patient_mentions(text)
    patients: dict[str, Patient] = {}
    for mention in mentions:
        for pid in mention.ids:
            patients.setdefault(pid, Patient(pid))
    for mention in mentions:
        if len(mention.ids) != 1:
            continue
        patient = patients[mention.ids[0]]
        if patient.age is not None:
            continue
        s_start, s_end = _sentence_bounds(text, mention.start)
        # The age must follow the mention before any other patient mention: "patient 2 a 52-year-old".
        nxt = next((p.start for p in mentions if p.start > mention.start), s_end)
        window_end = min(nxt, s_end, mention.end + 80)
        age = _AGE.search(text, mention.end, window_end)
        if not age:
            continue
        patient.age = _age_of(age)
        sex = _SEX.search(text, age.end(), s_end)  # shared across a list: "..., and patient 3 a 56-year-old woman"
        if sex:
            patient.sex = SEX_WORDS[sex["sex"].lower()]
        patient.evidence = {"start": mention.start, "end": (sex or age).end(),
                            "text": text[mention.start:(sex or age).end()]}
    if len(patients) == 1 and all(_in_title_or_heading(text, m.start) for m in mentions):
        # a single-patient report is patient "1", whatever its title or headings number it ("Case 3: ...")
        only = next(iter(patients.values()))
        return [Patient("1", only.age, only.sex, only.evidence)] if only.age is not None else [_single_patient(text)]
    if patients:
        return sorted(patients.values(), key=lambda p: (not p.id.isdigit(), int(p.id) if p.id.isdigit() else 0, p.id))
    return [_single_patient(text)]


def _in_title_or_heading(text: str, pos: int) -> bool:
    """True when ``pos`` stands in the document's first line or on a short heading line."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start:line_end if line_end >= 0 else len(text)]
    title = line_start == 0 and line_end >= 0 and len(line) <= 200
    heading = len(line.strip()) <= 60 and not line.rstrip().endswith((".", ",", ";"))
    return title or heading


def _single_patient(text: str) -> Patient:
    """Patient "1" of a single-patient report, with the first stated age and the sex word near it."""
    patient = Patient("1")
    age = _AGE.search(text)
    if age:
        patient.age = _age_of(age)
        s_start, s_end = _sentence_bounds(text, age.start())
        sex = _SEX.search(text, age.end(), min(s_end, age.end() + 40)) or _SEX.search(text, s_start, age.start())
        if sex:
            patient.sex = SEX_WORDS[sex["sex"].lower()]
        lo, hi = min(age.start(), sex.start() if sex else age.start()), max(age.end(), sex.end() if sex else 0)
        patient.evidence = {"start": lo, "end": hi, "text": text[lo:hi]}
    else:
        sex = _SEX.search(text)
        if sex:
            patient.sex = SEX_WORDS[sex["sex"].lower()]
            patient.evidence = {"start": sex.start(), "end": sex.end(), "text": sex.group(0)}
    return patient

