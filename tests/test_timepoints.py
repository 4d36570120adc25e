import pytest

from pipeline.timepoints import find_timepoints, parse_number_word, resolve_timepoint


def one(text):
    found = resolve_timepoint(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "text, span, kind, value, unit, days",
    [
        ("peaked at day 10", "day 10", "timepoint", 10, "day", 10),
        ("at week 12", "week 12", "timepoint", 12, "week", 84),
        ("1.74 at month 8", "month 8", "timepoint", 8, "month", 243.52),
        ("at 24 weeks post-CAR T-cell infusion", "24 weeks post-CAR T-cell infusion", "timepoint", 24, "week", 168),
        ("3 months after CAR T-cell therapy", "3 months after CAR T-cell therapy", "timepoint", 3, "month", 91.32),
        ("0.80 g/L at the 24-week follow-up in", "24-week follow-up", "timepoint", 24, "week", 168),
        ("vanished after 3 days in patient 1", "after 3 days", "timepoint", 3, "day", 3),
        ("at twenty-four weeks", "twenty-four weeks", "timepoint", 24, "week", 168),
        ("C3 normalized on 6 weeks of follow-up", "6 weeks", "timepoint", 6, "week", 42),
        ("anti-dsDNA fell within 4 weeks", "within 4 weeks", "timepoint", 4, "week", 28),
        ("prednisone was tapered over 3 months.", "over 3 months", "duration", 3, "month", 91.32),
        ("decreased over a 6-month period.", "over a 6-month period", "duration", 6, "month", 182.64),
        ("declining over the next three months", "over the next three months", "duration", 3, "month", 91.32),
        ("during the eight-month follow-up period", "eight-month follow-up period", "duration", 8, "month", 243.52),
        ("SLEDAI-2K during 12-month follow-up", "12-month follow-up", "duration", 12, "month", 365.28),
        ("the mRSS improved throughout the 6-month follow-up period", "6-month follow-up period", "duration", 6, "month", 182.64),
    ],
)
def test_timepoints_resolve(text, span, kind, value, unit, days):
    rt = one(text)
    assert (rt.text, rt.kind, rt.value, rt.unit, rt.days) == (span, kind, value, unit, days)
    assert text[rt.start:rt.end] == span


@pytest.mark.parametrize(
    "text, values, days_list",
    [
        ("12- and 35-weeks post-treatment", [12, 35], [84, 245]),
        ("B cell reconstitution at day 60, 90, and 60, respectively", [60, 90, 60], [60, 90, 60]),
        ("late neutropenia after 28 days and 90 days", [28, 90], [28, 90]),
        ("weeks 12 and 24", [12, 24], [84, 168]),
        ("day 60, 90, and 60", [60, 90, 60], [60, 90, 60]),
    ],
)
def test_timepoints_coordinated(text, values, days_list):
    rt = one(text)
    assert rt.values == values and rt.days_list == days_list
    assert rt.norm()["values"] == values


@pytest.mark.parametrize(
    "text, relative_to",
    [
        ("at baseline", None),
        ("on admission", None),
        ("31 prior to therapy to 46", "therapy"),
        ("before treatment", None),
        ("at admission", None),
        ("prior to the CD19 CAR T cell therapy", "CD19 CAR T cell therapy"),
    ],
)
def test_timepoints_baseline(text, relative_to):
    rt = one(text)
    assert rt.kind == "baseline" and rt.is_baseline and rt.days == 0
    assert not rt.text.lower().startswith(("at ", "on ", "in "))
    if relative_to:
        assert rt.relative_to == relative_to


@pytest.mark.parametrize(
    "text, spans",
    [
        # GUIDELINES section 4: no leading at/on/in/during/the; direction words stay
        ("CK was 4200 U/L at baseline and 180 U/L at week 12", ["baseline", "week 12"]),
        ("proteinuria at the 52-week follow-up", ["52-week follow-up"]),
        ("MG-ADL after 2 weeks and at 6 months", ["after 2 weeks", "6 months"]),
        ("nailfold capillaroscopy before and 6 months after rituximab treatment",
         ["before", "6 months after rituximab treatment"]),
        ("values prior to and 12 weeks post-infusion", ["prior to", "12 weeks post-infusion"]),
        # coordination across an interposed patient phrase
        ("B cells vanished after 5 days in patient 1 and 9 days in patients 2 and 3",
         ["after 5 days", "9 days"]),
        ("CK fell within 2 weeks in case 1 and 4 weeks in case 2", ["within 2 weeks", "4 weeks"]),
    ],
)
def test_timepoints_span_edges(text, spans):
    assert [rt.text for rt in find_timepoints(text)] == spans
    for rt in find_timepoints(text):
        assert text[rt.start:rt.end] == rt.text


@pytest.mark.parametrize(
    "text",
    [
        # disease durations and history are not on the treatment course
        "The patient had been living with SLE for 15 years.",
        "She was diagnosed with systemic sclerosis and had Raynaud phenomenon for 12 years before.",
        "remission for the first time in three decades",
        "treated with several agents over the past ten years",
        "at various timepoints over the previous two decades",
        "A 52-year-old man had dermatomyositis for 5 years.",
        "Patient 1 had MG for twelve years.",
        "SLE diagnosed 6 years ago",
        # bare activity durations are not timepoints
        "the patient underwent five days of plasma exchange",
        # literature and population statements
        "In earlier cohorts, only 40% of patients responded after 12 weeks of belimumab.",
        # a generic (indefinite) event is not a time on this patient's course
        "patients may be pretreated before a CD19-directed cell therapy is used",
    ],
)
def test_timepoints_not_on_the_course(text):
    assert find_timepoints(text) == []


@pytest.mark.parametrize(
    "text, spans",
    [
        # a last conjunct with a time of its own is a value: "5 at week 12 and 1 at week 24"
        ("an MG-ADL score of 5 at week 12 and 1 at week 24", ["week 12", "week 24"]),
        # a span of years anchored on the treatment stays on the course
        ("followed for 2 years after CAR T-cell therapy", ["2 years after CAR T-cell therapy"]),
        pytest.param("Anifrolumab was given every 4 weeks for 6 months without a renal response.", [],
                     id="prior-treatment-duration-in-months",
                     marks=pytest.mark.xfail(strict=True, reason="history of a failed prior treatment in months "
                                                                 "is not told apart from a course duration")),
    ],
)
def test_timepoints_values_and_history_spans(text, spans):
    assert [rt.text for rt in find_timepoints(text)] == spans


@pytest.mark.parametrize(
    "text, date",
    [("In November 2018, she", "2018-11"), ("on 3 March 2021 the", "2021-03-03"), ("since 2015 she", "2015")],
)
def test_timepoints_dates(text, date):
    rt = one(text)
    assert rt.kind == "date" and rt.date == date


@pytest.mark.parametrize(
    "text",
    [
        "Received: 7 August 2024 Accepted: 19 December 2024",
        "EULAR Rheumatology Open, 17 September 2025",
        "a 70-year-old man",
        "at 70 years of age",
        "3 minute read",
        "(2023) 35:220-223",
        "every patient",
    ],
)
def test_timepoints_not_timepoints(text):
    assert find_timepoints(text) == []


@pytest.mark.parametrize("word, value", [("three", 3), ("twenty-four", 24), ("12", 12), ("eight", 8), ("foo", None)])
def test_timepoints_number_words(word, value):
    assert parse_number_word(word) == value


@pytest.mark.parametrize(
    "text, n",
    [
        ("after 3 days in patient 1 and 7 days in patient 2", 2),
        pytest.param("after 3 days in the first patient and 7 days in the second", 2,
                     marks=pytest.mark.xfail(strict=True, reason="coordination across an ordinal patient phrase")),
    ],
)
def test_timepoints_known_misses(text, n):
    assert len(find_timepoints(text)) == n
