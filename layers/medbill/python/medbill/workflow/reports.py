"""Workflow reports: A/R aging, KPIs and time in each stage, computed from claims and their audit
events (plain Python; the staff API serves them as JSON and CSV, the console only draws them).

Definitions (tests/unit/workflow/test_reports.py works them by hand on a known data set):

- **Open insurance A/R** of a claim sent to a payer (it reached SUBMITTED) and not CLOSED / FAILED:
  charge - paid - patient responsibility - contractual adjustments (CO-45). A denial stays in A/R
  until the claim is closed (appealed, resubmitted or written off). Aged by date of service:
  0-30, 31-60, 61-90, 91-120, 120+ days on `as_of`.
- **Clean-claim rate**: claims submitted once, never held, over claims submitted.
- **First-pass resolution rate**: adjudicated claims whose first posting was paid or short-paid and
  that were never denied, reversed or resubmitted afterwards, over adjudicated claims.
- **Denial rate**: denied adjudicated claims over adjudicated claims; by CARC: adjudicated claims
  denied with that reason (CO/OA/PI adjustments of a denied claim) over adjudicated claims.
- **Days in A/R**: open A/R / (charges with a date of service in the 90 days to `as_of` / 90).
- **Touchless rate**: adjudicated claims no staff user acted on (no `staff:` actor) and never
  held, over adjudicated claims.
- **Stage times**: hours from entering a status to leaving it, per clinic, payer and status;
  a status not left yet counts up to `as_of` (the claims waiting there now), final ones (CLOSED,
  FAILED) not at all.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from medbill.models.claim import Claim
from medbill.models.status import HOLD_STATUSES, POSTED, ClaimStatus
from medbill.ports import ClaimEvent, ClaimStore

S = ClaimStatus
ZERO = Decimal("0.00")
BUCKETS = ("0-30", "31-60", "61-90", "91-120", "120+")
DAYS_IN_AR_PERIOD = 90
FINAL = frozenset({S.CLOSED, S.FAILED})
STAFF_ACTOR_PREFIX = "staff:"


@dataclass(frozen=True)
class ClaimHistory:
    claim: Claim
    events: Sequence[ClaimEvent]

    def entered(self) -> list[str]:
        return [e.new_status for e in _ordered(self.events) if e.new_status != e.old_status]


def histories(store: ClaimStore, claims: Iterable[Claim]) -> list[ClaimHistory]:
    return [ClaimHistory(claim, store.events(claim.claim_id)) for claim in claims]


def _ordered(events: Iterable[ClaimEvent]) -> list[ClaimEvent]:
    return sorted(events, key=lambda e: (e.at, e.version))


def _money(value: Decimal) -> str:
    return str(value.quantize(ZERO, rounding=ROUND_HALF_UP))


def _ratio(numerator: int, denominator: int) -> dict[str, Any]:
    rate = (
        (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP) if denominator else None
    )
    return {"numerator": numerator, "denominator": denominator, "rate": str(rate) if rate is not None else None}


def _submitted(h: ClaimHistory) -> bool:
    return S.SUBMITTED.value in h.entered()


def open_balance(claim: Claim) -> Decimal:
    """What the payer still owes on the claim (see the module docstring)."""
    if claim.status in FINAL or claim.total_charge is None:
        return ZERO
    contractual = sum((a.amount for a in claim.adjustments if a.group == "CO" and a.reason == "45"), ZERO)
    balance = claim.total_charge - claim.paid_amount - claim.patient_responsibility - contractual
    return max(balance, ZERO)


def bucket(days: int) -> str:
    for limit, name in ((30, "0-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")):
        if days <= limit:
            return name
    return "120+"


# --- A/R aging ----------------------------------------------------------------------------------
def ar_aging(histories: Iterable[ClaimHistory], as_of: date) -> dict[str, Any]:
    by: dict[str, dict[str, dict[str, list[Decimal]]]] = {"payer": {}, "clinic": {}}
    total: dict[str, list[Decimal]] = {b: [] for b in BUCKETS}
    for h in histories:
        balance = open_balance(h.claim) if _submitted(h) else ZERO
        if balance <= 0:
            continue
        age = bucket((as_of - date.fromisoformat(h.claim.date_of_service)).days)
        for dim, key in (("payer", h.claim.payer_id), ("clinic", h.claim.clinic_id)):
            by[dim].setdefault(key, {b: [] for b in BUCKETS})[age].append(balance)
        total[age].append(balance)

    def row(key: str, cells: dict[str, list[Decimal]]) -> dict[str, Any]:
        amounts = {b: _money(sum(cells[b], ZERO)) for b in BUCKETS}
        counts = {b: len(cells[b]) for b in BUCKETS}
        all_amounts = [a for b in BUCKETS for a in cells[b]]
        return {"key": key, "amounts": amounts, "counts": counts, "total": _money(sum(all_amounts, ZERO))}

    return {
        "as_of": as_of.isoformat(),
        "buckets": list(BUCKETS),
        "by_payer": [row(k, v) for k, v in sorted(by["payer"].items())],
        "by_clinic": [row(k, v) for k, v in sorted(by["clinic"].items())],
        "total": row("total", total),
    }


def ar_aging_csv(report: dict[str, Any]) -> str:
    rows = [["dimension", "key", *[f"{b} amount" for b in BUCKETS], *[f"{b} count" for b in BUCKETS], "total"]]
    for dim in ("payer", "clinic"):
        for r in report[f"by_{dim}"]:
            rows.append([dim, r["key"], *r["amounts"].values(), *r["counts"].values(), r["total"]])
    t = report["total"]
    rows.append(["total", "", *t["amounts"].values(), *t["counts"].values(), t["total"]])
    return _csv(rows)


# --- KPIs ---------------------------------------------------------------------------------------
def _denial_reasons(claim: Claim) -> set[str]:
    return {a.reason for a in claim.adjustments if a.group in ("CO", "OA", "PI")}


def kpis(histories: Iterable[ClaimHistory], as_of: date) -> dict[str, Any]:
    hs = list(histories)
    submitted = [h for h in hs if _submitted(h)]
    clean = [
        h
        for h in submitted
        if h.entered().count(S.SUBMITTED.value) == 1 and not any(s in HOLD_STATUSES for s in h.entered())
    ]
    adjudicated = [h for h in hs if h.claim.remittance_outcome is not None]
    posted_values = {s.value for s in POSTED}

    def first_pass(h: ClaimHistory) -> bool:
        entered = h.entered()
        posted = [s for s in entered if s in posted_values]
        later = entered[entered.index(posted[0]) :] if posted else []
        bad = {S.DENIED.value, S.REVERSED.value, S.SUBMITTED.value}
        return bool(posted) and posted[0] in (S.PAID.value, S.SHORT_PAID.value) and not bad & set(later)

    denied = [h for h in adjudicated if h.claim.remittance_outcome == "denied"]
    by_carc: dict[str, int] = defaultdict(int)
    for h in denied:
        for reason in _denial_reasons(h.claim):
            by_carc[reason] += 1
    touchless = [
        h
        for h in adjudicated
        if not any(e.actor.startswith(STAFF_ACTOR_PREFIX) for e in h.events)
        and not any(s in HOLD_STATUSES for s in h.entered())
    ]
    open_ar = sum((open_balance(h.claim) for h in submitted), ZERO)
    start = as_of - timedelta(days=DAYS_IN_AR_PERIOD)
    charges = sum(
        (h.claim.total_charge or ZERO for h in hs if start < date.fromisoformat(h.claim.date_of_service) <= as_of),
        ZERO,
    )
    days_in_ar = (open_ar / (charges / DAYS_IN_AR_PERIOD)).quantize(Decimal("0.1"), ROUND_HALF_UP) if charges else None
    return {
        "as_of": as_of.isoformat(),
        "claims": len(hs),
        "clean_claim_rate": _ratio(len(clean), len(submitted)),
        "first_pass_resolution_rate": _ratio(sum(1 for h in adjudicated if first_pass(h)), len(adjudicated)),
        "denial_rate": _ratio(len(denied), len(adjudicated)),
        "denial_rate_by_carc": {carc: _ratio(n, len(adjudicated)) for carc, n in sorted(by_carc.items())},
        "days_in_ar": {
            "open_ar": _money(open_ar),
            "charges_in_period": _money(charges),
            "period_days": DAYS_IN_AR_PERIOD,
            "days": str(days_in_ar) if days_in_ar is not None else None,
        },
        "touchless_rate": _ratio(len(touchless), len(adjudicated)),
    }


def kpis_csv(report: dict[str, Any]) -> str:
    rows = [["kpi", "numerator", "denominator", "value"]]
    for name in ("clean_claim_rate", "first_pass_resolution_rate", "denial_rate", "touchless_rate"):
        r = report[name]
        rows.append([name, r["numerator"], r["denominator"], r["rate"] or ""])
    for carc, r in report["denial_rate_by_carc"].items():
        rows.append([f"denial_rate_carc_{carc}", r["numerator"], r["denominator"], r["rate"] or ""])
    d = report["days_in_ar"]
    rows.append(["days_in_ar", d["open_ar"], d["charges_in_period"], d["days"] or ""])
    return _csv(rows)


# --- stage times --------------------------------------------------------------------------------
def _hours(seconds: float) -> Decimal:
    return (Decimal(str(seconds)) / 3600).quantize(ZERO, ROUND_HALF_UP)


def stage_times(histories: Iterable[ClaimHistory], as_of: datetime) -> dict[str, Any]:
    spans: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for h in histories:
        changes = [e for e in _ordered(h.events) if e.new_status != e.old_status]
        for this, nxt in zip(changes, [*changes[1:], None], strict=True):
            if nxt is None and this.new_status in {s.value for s in FINAL}:
                continue
            start = datetime.fromisoformat(this.at)
            end = datetime.fromisoformat(nxt.at) if nxt is not None else as_of
            key = (h.claim.clinic_id, h.claim.payer_id, this.new_status)
            spans[key].append(max((end - start).total_seconds(), 0.0))
    rows = []
    for (clinic, payer, status), seconds in sorted(spans.items()):
        rows.append(
            {
                "clinic_id": clinic,
                "payer_id": payer,
                "stage": status,
                "stays": len(seconds),  # times a claim entered the stage
                "total_hours": str(_hours(sum(seconds))),
                "average_hours": str(_hours(sum(seconds) / len(seconds))),
                "max_hours": str(_hours(max(seconds))),
            }
        )
    return {"as_of": as_of.isoformat(), "rows": rows}


def stage_times_csv(report: dict[str, Any]) -> str:
    fields = ["clinic_id", "payer_id", "stage", "stays", "total_hours", "average_hours", "max_hours"]
    return _csv([fields, *[[r[f] for f in fields] for r in report["rows"]]])


def _csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
