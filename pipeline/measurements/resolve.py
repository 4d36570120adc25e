"""Patients and timepoints of the values of a group, and what carries from sentence to sentence
(a fronted "At month 3,", the 24-week follow-up, the patient a paragraph is about).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

import regex as re

from pipeline.measurements.mentions import (
    BASELINE_DEFAULT,
    FOLLOW_UP_UNSTATED,
    timepoint_of,
)
from pipeline.measurements.model import Context, Group, Mention, ValueList
from pipeline.patients import (
    PatientMention,
)
from pipeline.record import Evidence, Measurement, Timepoint
from pipeline.ruleset import load_rules

FOLLOW_UP_RE = re.compile(r"follow[- ]?up|period|over\b|during|throughout", re.IGNORECASE)
_PRONOUN_RE = re.compile(r"\b(?:he|she|his|her|him)\b", re.IGNORECASE)
# a time fronted as the frame of a sentence ("At month 3, the SLEDAI-2K had decreased ...")
_FRONTED_GAP_RE = re.compile(r"^\s*(?:(?:at|on|by|after|in)\s+)?(?:the\s+)?$", re.IGNORECASE)
# a follow-up with no stated time: its values take no time from an earlier sentence
_UNSTATED_FOLLOW_UP_RE = re.compile(r"\b(?:throughout|during|over)\s+(?:the\s+)?(?:entire\s+|whole\s+)?follow[- ]?up\b"
                                    r"|\bat\s+(?:the\s+)?last\s+(?:follow[- ]?up|visit)\b", re.IGNORECASE)
_COMMA_AHEAD = re.compile(r"\s*,")


def _emit(text: str, group: Group, analytes: list[Mention], ctx: Context, sent_index: int,
          free_times: list[Mention], sent_times: list[Mention], before_patients: list[PatientMention],
          cohort: tuple[str, ...], demographic: bool, sentence: tuple[int, int], carry_over: bool) -> list[Measurement]:
    """The measurements of one group: patients, analytes and timepoints resolved."""
    n = group.size
    flags: list[str] = []
    # Over analytes: "HAQ-DI and SDAI were 1.25 and 22.4, respectively".
    if len(analytes) > 1:
        if n == len(analytes):
            per_analyte = analytes
        else:
            per_analyte = [analytes[-1]] * n
    else:
        per_analyte = analytes * n
    pronoun = bool(_PRONOUN_RE.search(text, sentence[0], sentence[1]))
    patients = _patients_for(group, per_analyte, ctx, sent_index, before_patients, cohort, flags, pronoun=pronoun)
    stated_free = [t for t in free_times if not t.norm.get("is_baseline")] or free_times
    follow_time = stated_free[0] if stated_free else None
    sent_time = _nearest_time(sent_times, analytes[0].start)
    unstated = bool(_UNSTATED_FOLLOW_UP_RE.search(text, sentence[0], sentence[1]))
    carry = ctx.carry_time if carry_over and not unstated else None

    def resolve(lst: ValueList, role: str, i: int) -> tuple[Timepoint | None, Mention | None, list[str]]:
        extra: list[str] = []
        if lst.times:
            t = lst.times[min(i, len(lst.times) - 1)]
            return timepoint_of(t), t, extra
        if lst.time is not None:
            return timepoint_of(lst.time, i if lst.time.norm.get("days_list") else None), lst.time, extra
        if role == "before":
            baseline = next((t for t in free_times + sent_times if t.norm.get("is_baseline")), None)
            return (timepoint_of(baseline), baseline, extra) if baseline else (BASELINE_DEFAULT, None, extra)
        for cand in (follow_time, sent_time, carry):
            if cand is not None and not (role == "after" and cand.norm.get("is_baseline")):
                if cand is carry:
                    extra.append("timepoint_carried")
                return timepoint_of(cand, i if cand.norm.get("days_list") else None), cand, extra
        if role == "after" or unstated:
            return FOLLOW_UP_UNSTATED, None, ["timepoint_unstated"]
        if demographic:
            return BASELINE_DEFAULT, None, ["baseline_inferred"]
        return None, None, extra

    out: list[Measurement] = []
    roles = [("before" if group.second else "single", group.first)]
    if group.second:
        roles.append(("after", group.second))
    s0, s1 = sentence
    evidence = Evidence(start=s0, end=s1, text=text[s0:s1].strip())
    lead = len(text[s0:s1]) - len(text[s0:s1].lstrip())
    evidence = replace(evidence, start=s0 + lead, end=s0 + lead + len(evidence.text))
    for role, lst in roles:
        if len(lst.values) != n:
            flags_len = ["list_length_mismatch"]
        else:
            flags_len = []
        for i, v in enumerate(lst.values):
            a = per_analyte[min(i, len(per_analyte) - 1)]
            tp, tmention, tflags = resolve(lst, role, i)
            pids = patients[min(i, len(patients) - 1)] if patients else ("unknown",)
            ids = list(a.entity_ids) + ([tmention.id] if tmention is not None and tmention.id else [])
            vflags = sorted(set(flags + tflags + flags_len + ([f"scale_max:{v.maximum:g}"] if v.maximum else [])))
            if v.stat is not None:  # a group statistic describes the cohort, not one patient
                pids = ("cohort",)
            parts = split_reading(a.analyte, v.value, v.maximum)
            if parts:  # "BP 130/80 mmHg": systolic 130, diastolic 80
                vflags = [f for f in vflags if not f.startswith("scale_max:")]
            for pid in pids:
                for analyte, value in parts or [(a.analyte, v.value)]:
                    out.append(Measurement(
                        id="", patient=pid, analyte=analyte, kind=a.kind, value=value, evidence=evidence,
                        comparator=v.comparator, unit=v.unit,
                        unit_ucum=v.unit_ucum, timepoint=tp, entity_ids=ids, flags=list(vflags),
                        value_span=Evidence(start=v.start, end=v.end, text=v.text),
                        result=v.result, stat=v.stat, sd=v.sd, range=list(v.range) if v.range else None,
                    ))
    return out


@lru_cache(maxsize=1)
def _splits() -> dict[str, tuple[str, ...]]:
    return {r["id"]: tuple(r["split"]) for name in ("labs", "scores") for r in load_rules(name) if r.get("split")}


def split_reading(analyte: str, value: float | None, second: float | None) -> list[tuple[str, float | None]]:
    """A reading of two analytes written as one ("BP 130/80": rule key ``split``), or [] when it is one value."""
    names = _splits().get(analyte)
    if not names or second is None or len(names) != 2:
        return []
    return [(names[0], value), (names[1], second)]


def _patients_for(group: Group, analytes: list[Mention], ctx: Context, sent_index: int,
                  before: list[PatientMention], cohort: tuple[str, ...], flags: list[str], *,
                  pronoun: bool = False) -> list[tuple[str, ...]]:
    """Patient ids per value position of ``group`` (one tuple per position).

    A sentence that names no patient but refers to one by a singular pronoun ("Her baseline
    MG-ADL score ...", "His CRP ...") is about the patient the previous sentence named alone.
    """
    n = group.size
    if group.patients is not None:
        if group.by_position:
            _remember_order(ctx, group.patients, sent_index)
            return [(p,) for p in group.patients]
        return [group.patients] * n
    if len(cohort) == 1:
        return [cohort] * n
    # "whose MG-ADL and QMG scores were 9 and 16": one value per analyte, all of one patient
    if n > 1 and len({(a.start, a.end) for a in analytes}) == n and before and len(before[-1].ids) == 1:
        return [before[-1].ids] * n
    named: list[str] = []
    for p in before:
        for pid in p.ids:
            if pid not in named:
                named.append(pid)
    if n > 1 and len(named) == n:
        _remember_order(ctx, tuple(named), sent_index)
        return [(p,) for p in named]
    if before and len(before[-1].ids) == 1 and n == 1:
        return [before[-1].ids]
    if n > 1 and n == len(cohort) and ctx.order is not None and sent_index - ctx.order_sentence <= 1 \
            and len(ctx.order) == n:
        _remember_order(ctx, ctx.order, sent_index)
        flags.append("patient_by_position")
        return [(p,) for p in ctx.order]
    if not before and pronoun and ctx.focus is not None:
        flags.append("patient_by_pronoun")
        return [ctx.focus] * n
    if not before and ctx.section is not None:
        flags.append("patient_by_section")
        return [ctx.section] * n
    flags.append("patient_unresolved")
    return [("unknown",)] * n


def _remember_order(ctx: Context, order: tuple[str, ...], sent_index: int) -> None:
    ctx.order, ctx.order_sentence = order, sent_index


def _nearest_time(times: list[Mention], pos: int) -> Mention | None:
    before = [t for t in times if t.end <= pos]
    if before:
        return before[-1]
    after = [t for t in times if t.start >= pos]
    return after[0] if len(after) == 1 else None


def _update_carry(ctx: Context, times: list[Mention], made: list[Measurement]) -> None:
    """An explicit follow-up time ("at the 24-week follow-up", "over a 6-month period") carries on."""
    spans = [t for t in times if t.norm.get("kind") != "date" and not t.norm.get("is_baseline")]
    used = {(m.timepoint.start, m.timepoint.end) for m in made if m.timepoint and m.timepoint.start is not None}
    follow = [t for t in spans if FOLLOW_UP_RE.search(t.text) and ((t.start, t.end) in used or not made)]
    if follow:
        ctx.carry_time = follow[-1]


def _update_fronted(ctx: Context, text: str, s0: int, s1: int, times: list[Mention]) -> None:
    """A time fronted before a comma ("At month 3, ...") frames the following sentences of the paragraph,
    until a sentence states times of its own or an unquantified follow-up ("throughout follow-up")."""
    own = [t for t in times if t.norm.get("kind") not in ("date", "duration") and t.start >= s0]
    first = own[0] if own else None
    if first is not None and _FRONTED_GAP_RE.match(text[s0:first.start]) and _COMMA_AHEAD.match(text[first.end:first.end + 3]):
        ctx.carry_time, ctx.fronted = first, True
    elif ctx.fronted and (own or _UNSTATED_FOLLOW_UP_RE.search(text, s0, s1)):
        ctx.carry_time, ctx.fronted = None, False


def _update_focus(ctx: Context, mentions: Sequence[PatientMention]) -> None:
    """The patient a sentence is about when it names exactly one; none once several are named."""
    ids = {pid for p in mentions for pid in p.ids}
    if len(ids) == 1:
        ctx.focus = tuple(ids)
    elif ids:
        ctx.focus = None
