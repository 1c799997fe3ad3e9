"""Reports on a known data set, with every expected value worked by hand.

as_of 2025-12-31. Five claims (charge; payer; clinic; date of service; where they are):
  C1 100.00 PAYERA01 clinic-a 2025-12-20  awaiting remittance (11 days: 0-30), submitted once
  C2 200.00 PAYERB02 clinic-a 2025-11-15  paid 160.00 + CO-45 40.00: nothing open; clean, first pass
  C3 300.00 PAYERA01 clinic-b 2025-10-01  held for eligibility, rechecked by a person, denied CO-50
                                          (91 days: 91-120, 300.00 open)
  C4 500.00 PAYERB02 clinic-b 2025-08-01  short-paid 300.00, PR 50.00, CO-45 100.00, then resubmitted
                                          (152 days: 120+, 500 - 300 - 50 - 100 = 50.00 open)
  C5  50.00 PAYERA01 clinic-a 2025-12-30  on a coding hold (never submitted: not A/R)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from medbill.models.claim import Adjustment
from medbill.models.status import ClaimStatus as S
from medbill.ports import ClaimEvent
from medbill.workflow.intake import new_claim
from medbill.workflow.reports import ClaimHistory, ar_aging, ar_aging_csv, kpis, kpis_csv, stage_times, stage_times_csv
from tests.factories import make_encounter

AS_OF = date(2025, 12, 31)
D = Decimal


def _history(
    n: int, clinic: str, payer: str, dos: str, charge: str, steps: list[tuple[str, str]], **claim: Any
) -> ClaimHistory:
    enc = make_encounter(encounter_id=f"E{n}", clinic_id=clinic, date_of_service=dos, coverage__payer_id=payer)
    base = new_claim(enc, "encounters/r.json", n)
    status = steps[-1][1].split("@")[0]
    c = base.model_copy(update={"status": S(status), "total_charge": D(charge), **claim})
    events, old = [], None
    for version, (at, what) in enumerate(steps, 1):
        new, _, actor = what.partition("@")
        events.append(ClaimEvent(f"2025-{at}:00+00:00", actor or "workflow", old, new, {}, version))
        old = new
    return ClaimHistory(c, events)


def data() -> list[ClaimHistory]:
    return [
        _history(
            1,
            "clinic-a",
            "PAYERA01",
            "2025-12-20",
            "100.00",
            [
                ("12-20T08:00", "RECEIVED"),
                ("12-20T09:00", "REGISTERED"),
                ("12-20T10:00", "ELIGIBLE"),
                ("12-20T12:00", "CODED"),
                ("12-20T13:00", "CHARGED"),
                ("12-21T13:00", "SUBMITTED"),
                ("12-21T14:00", "AWAITING_REMITTANCE"),
            ],
        ),
        _history(
            2,
            "clinic-a",
            "PAYERB02",
            "2025-11-15",
            "200.00",
            [
                ("11-15T00:00", "RECEIVED"),
                ("11-16T00:00", "SUBMITTED"),
                ("11-16T01:00", "AWAITING_REMITTANCE"),
                ("11-26T01:00", "PAID"),
            ],
            paid_amount=D("160.00"),
            adjustment_amount=D("40.00"),
            adjustments=[Adjustment(group="CO", reason="45", amount=D("40.00"))],
            remittance_outcome="paid",
        ),
        _history(
            3,
            "clinic-b",
            "PAYERA01",
            "2025-10-01",
            "300.00",
            [
                ("10-01T00:00", "RECEIVED"),
                ("10-01T02:00", "ELIGIBILITY_HOLD"),
                ("10-02T01:00", "ELIGIBILITY_HOLD@staff:bea:sub-bea"),  # the recheck: no status change
                ("10-02T02:00", "ELIGIBLE"),
                ("10-03T02:00", "SUBMITTED"),
                ("10-13T02:00", "DENIED"),
                ("10-13T03:00", "FOLLOW_UP"),
            ],
            adjustment_amount=D("300.00"),
            adjustments=[Adjustment(group="CO", reason="50", amount=D("300.00"))],
            remittance_outcome="denied",
        ),
        _history(
            4,
            "clinic-b",
            "PAYERB02",
            "2025-08-01",
            "500.00",
            [
                ("08-01T00:00", "RECEIVED"),
                ("08-02T00:00", "SUBMITTED"),
                ("08-02T01:00", "AWAITING_REMITTANCE"),
                ("08-20T01:00", "SHORT_PAID"),
                ("08-21T01:00", "FOLLOW_UP"),
                ("08-22T01:00", "SUBMITTED"),
                ("08-22T02:00", "AWAITING_REMITTANCE"),
            ],
            paid_amount=D("300.00"),
            patient_responsibility=D("50.00"),
            adjustment_amount=D("150.00"),
            adjustments=[
                Adjustment(group="CO", reason="45", amount=D("100.00")),
                Adjustment(group="PR", reason="1", amount=D("50.00")),
            ],
            remittance_outcome="short_paid",
        ),
        _history(
            5,
            "clinic-a",
            "PAYERA01",
            "2025-12-30",
            "50.00",
            [("12-30T00:00", "RECEIVED"), ("12-30T06:00", "CODING_HOLD")],
        ),
    ]


def _row(key: str, amounts: dict[str, str], total: str) -> dict[str, Any]:
    buckets = ("0-30", "31-60", "61-90", "91-120", "120+")
    return {
        "key": key,
        "amounts": {b: amounts.get(b, "0.00") for b in buckets},
        "counts": {b: int(b in amounts) for b in buckets},
        "total": total,
    }


def test_ar_aging_by_payer_and_clinic() -> None:
    report = ar_aging(data(), AS_OF)
    assert report["by_payer"] == [
        _row("PAYERA01", {"0-30": "100.00", "91-120": "300.00"}, "400.00"),
        _row("PAYERB02", {"120+": "50.00"}, "50.00"),
    ]
    assert report["by_clinic"] == [
        _row("clinic-a", {"0-30": "100.00"}, "100.00"),
        _row("clinic-b", {"91-120": "300.00", "120+": "50.00"}, "350.00"),
    ]
    assert report["total"] == _row("total", {"0-30": "100.00", "91-120": "300.00", "120+": "50.00"}, "450.00")
    text = ar_aging_csv(report)
    assert text.splitlines()[1] == "payer,PAYERA01,100.00,0.00,0.00,300.00,0.00,1,0,0,1,0,400.00"
    assert text.splitlines()[-1] == "total,,100.00,0.00,0.00,300.00,50.00,1,0,0,1,1,450.00"


def test_kpis() -> None:
    report = kpis(data(), AS_OF)
    assert report["claims"] == 5
    # Submitted: C1-C4. Clean: C1, C2 (C3 was held, C4 submitted twice).
    assert report["clean_claim_rate"] == {"numerator": 2, "denominator": 4, "rate": "0.5000"}
    # Adjudicated: C2, C3, C4. First pass: C2 only (C3 denied, C4 resubmitted after its short payment).
    assert report["first_pass_resolution_rate"] == {"numerator": 1, "denominator": 3, "rate": "0.3333"}
    assert report["denial_rate"] == {"numerator": 1, "denominator": 3, "rate": "0.3333"}
    assert report["denial_rate_by_carc"] == {"50": {"numerator": 1, "denominator": 3, "rate": "0.3333"}}
    # Touchless: C2 and C4 (C3 was held, and a person rechecked it).
    assert report["touchless_rate"] == {"numerator": 2, "denominator": 3, "rate": "0.6667"}
    # Open A/R 450.00; charges with a date of service after 2025-10-02: C1 100 + C2 200 + C5 50 = 350.00,
    # 350 / 90 = 3.8889 a day; 450 / 3.8889 = 115.71 days.
    assert report["days_in_ar"] == {
        "open_ar": "450.00",
        "charges_in_period": "350.00",
        "period_days": 90,
        "days": "115.7",
    }
    lines = kpis_csv(report).splitlines()
    assert lines[1] == "clean_claim_rate,2,4,0.5000" and lines[-1] == "days_in_ar,450.00,350.00,115.7"


def test_stage_times_per_clinic_payer_and_stage() -> None:
    report = stage_times(data(), datetime(2025, 12, 31, tzinfo=UTC))
    rows = {(r["clinic_id"], r["payer_id"], r["stage"]): r for r in report["rows"]}

    def hours(key: tuple[str, str, str]) -> tuple[int, str, str, str]:
        r = rows[key]
        return r["stays"], r["total_hours"], r["average_hours"], r["max_hours"]

    # C1 1 h and C5 6 h received; C5 on its coding hold since 12-30 06:00 (18 h to as_of).
    assert hours(("clinic-a", "PAYERA01", "RECEIVED")) == (2, "7.00", "3.50", "6.00")
    assert hours(("clinic-a", "PAYERA01", "CODING_HOLD")) == (1, "18.00", "18.00", "18.00")
    assert hours(("clinic-a", "PAYERA01", "CHARGED")) == (1, "24.00", "24.00", "24.00")
    assert hours(("clinic-a", "PAYERA01", "AWAITING_REMITTANCE")) == (1, "226.00", "226.00", "226.00")
    assert hours(("clinic-a", "PAYERB02", "AWAITING_REMITTANCE")) == (1, "240.00", "240.00", "240.00")
    assert hours(("clinic-a", "PAYERB02", "PAID")) == (1, "839.00", "839.00", "839.00")
    # C3's hold: 10-01 02:00 to 10-02 02:00 (the recheck event is not a stage change).
    assert hours(("clinic-b", "PAYERA01", "ELIGIBILITY_HOLD")) == (1, "24.00", "24.00", "24.00")
    assert hours(("clinic-b", "PAYERA01", "FOLLOW_UP")) == (1, "1893.00", "1893.00", "1893.00")
    # C4 entered SUBMITTED twice (1 h each) and AWAITING_REMITTANCE twice (18 days, then open 3142 h).
    assert hours(("clinic-b", "PAYERB02", "SUBMITTED")) == (2, "2.00", "1.00", "1.00")
    assert hours(("clinic-b", "PAYERB02", "AWAITING_REMITTANCE")) == (2, "3574.00", "1787.00", "3142.00")
    assert len(rows) == 7 + 1 + 4 + 6 + 5  # C1 7 stages, C5 1 more (RECEIVED is shared with C1), C2 4, C3 6, C4 5
    assert (
        stage_times_csv(report).splitlines()[0] == "clinic_id,payer_id,stage,stays,total_hours,average_hours,max_hours"
    )


def test_nothing_to_report_is_not_an_error() -> None:
    assert kpis([], AS_OF)["clean_claim_rate"] == {"numerator": 0, "denominator": 0, "rate": None}
    assert kpis([], AS_OF)["days_in_ar"]["days"] is None
    assert ar_aging([], AS_OF)["total"]["total"] == "0.00" and stage_times([], datetime(2026, 1, 1))["rows"] == []
