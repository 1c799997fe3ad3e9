"""Adjustment rules as data: what follow-up does with an adjustment, by group + CARC (+ RARC).

The table ships as `medbill/data/adjustment_rules.csv` (one row per rule, organised by the CAQH CORE
360 business scenarios; its header says what each column means) and is read once per process.
Lookup, most specific first: (group, CARC, RARC), (group, CARC), (*, CARC, RARC), (*, CARC), else
the group's default. `*` rows serve CO, OA and PI; PR is the patient's share by definition and has
no rows: it goes to the next payer when there is one, else to the patient.

The table is checked when it loads: a CO rule may never bill the patient (balance billing), an
expected reduction must be a contractual write-off, every write-off names its category.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Action = Literal[
    "appeal",
    "correct_and_resubmit",
    "rebill_other_payer",
    "bill_secondary",
    "bill_patient",
    "write_off",
    "review",
]
ACTIONS: frozenset[str] = frozenset(Action.__args__)  # type: ignore[attr-defined]
RULE_GROUPS = frozenset({"CO", "OA", "PI", "*"})
# When several adjustments need work, the first of these decides: a corrected claim re-adjudicates
# everything, a claim for the wrong payer must move before anyone appeals, a write-off is the last resort.
PRIORITY: tuple[str, ...] = (
    "correct_and_resubmit",
    "rebill_other_payer",
    "appeal",
    "review",
    "bill_patient",
    "write_off",
)
WRITE_OFF_CATEGORIES = frozenset(
    {"contractual", "non_covered", "bundled", "timely_filing", "small_balance", "bad_debt", "administrative"}
)


@dataclass(frozen=True)
class Rule:
    group: str  # CO, OA, PI or * (CO/OA/PI)
    carc: str
    rarc: str  # "" = any remark
    scenario: str
    action: str
    category: str  # write-off category ("" unless action is write_off)
    expected: bool  # an expected contractual reduction: the claim is paid as expected
    note: str


# What a group does when no row names its CARC: a person looks (CO/OA/PI), the patient's share (PR).
UNKNOWN = Rule("*", "*", "", "other", "review", "", False, "no rule for this code: a person decides")
PATIENT_SHARE = Rule("PR", "*", "", "patient_responsibility", "bill_patient", "", False, "patient responsibility")


class BadRulesTable(ValueError):
    """The rules table breaks one of its invariants (names the row, never claim data)."""


def _check(rule: Rule, line: int) -> None:
    where = f"adjustment rules line {line} ({rule.group}-{rule.carc})"
    if rule.group not in RULE_GROUPS:
        raise BadRulesTable(f"{where}: group must be CO, OA, PI or * (PR is always the patient's share)")
    if rule.action not in ACTIONS:
        raise BadRulesTable(f"{where}: unknown action {rule.action}")
    if rule.action == "bill_patient" and rule.group in ("CO", "*"):
        raise BadRulesTable(f"{where}: a contractual (CO) amount is never billed to the patient")
    if rule.expected and (rule.action, rule.category) != ("write_off", "contractual"):
        raise BadRulesTable(f"{where}: an expected reduction is a contractual write-off")
    if (rule.action == "write_off") != bool(rule.category) and rule.category != "timely_filing":
        raise BadRulesTable(f"{where}: a write-off names its category, and only a write-off does")
    if rule.category and rule.category not in WRITE_OFF_CATEGORIES:
        raise BadRulesTable(f"{where}: unknown write-off category {rule.category}")


def parse_rules(text: str) -> dict[tuple[str, str, str], Rule]:
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    table: dict[tuple[str, str, str], Rule] = {}
    for n, row in enumerate(csv.DictReader(io.StringIO("\n".join(rows))), start=2):
        rule = Rule(
            group=row["group"].strip(),
            carc=row["carc"].strip().upper(),
            rarc=row["rarc"].strip().upper(),
            scenario=row["scenario"].strip(),
            action=row["action"].strip(),
            category=row["category"].strip(),
            expected=row["expected"].strip() == "1",
            note=row["note"].strip(),
        )
        _check(rule, n)
        key = (rule.group, rule.carc, rule.rarc)
        if key in table:
            raise BadRulesTable(f"adjustment rules line {n}: {'-'.join(k for k in key if k)} appears twice")
        table[key] = rule
    return table


@cache
def rules() -> dict[tuple[str, str, str], Rule]:
    """The shipped table, read once per process."""
    text = resources.files("medbill").joinpath("data", "adjustment_rules.csv").read_text(encoding="utf-8")
    return parse_rules(text)


def rule_for(group: str, carc: str, remarks: tuple[str, ...] | list[str] = ()) -> Rule:
    """The rule for one adjustment; `remarks` are the RARCs that came with it (claim- or line-level)."""
    if group == "PR":
        return PATIENT_SHARE
    table = rules()
    carc = carc.upper()
    for g in (group, "*"):
        for rarc in remarks:
            hit = table.get((g, carc, rarc.upper()))
            if hit:
                return hit
        hit = table.get((g, carc, ""))
        if hit:
            return hit
    return UNKNOWN


def is_expected_reduction(group: str, carc: str) -> bool:
    """CO-45, CO-253 and the other expected contractual reductions (PI alike): paid as expected."""
    return group != "PR" and rule_for(group, carc).expected


def first_by_priority(actions: list[str]) -> str | None:
    ranked = sorted(actions, key=lambda a: PRIORITY.index(a) if a in PRIORITY else len(PRIORITY))
    return ranked[0] if ranked else None
