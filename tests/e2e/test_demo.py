"""`make demo` as a test: the sample files through the whole lifecycle with the payer simulator.

Amounts are the payer rules (infra/local/payer_rules.json) applied to the clinics' fee schedules;
the first row is worked by hand in the comment so the table can be checked, not just trusted.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from infra import config
from infra.local import demo
from testkit.x12_oracle import pyx12_errors
from tests.e2e.conftest import SAMPLES

# encounter id -> (final status, billed, paid, adjustments (CO/OA/PI), patient responsibility, follow-up action)
# NS-20261116-001, PAYERA01, 99213 at 133.00: allowed 80% = 106.40 (CO-45 26.60); copay 25.00 (PR-3) and
# 20% coinsurance of the remaining 81.40 = 16.28 (PR-2): patient 41.28, paid 106.40 - 41.28 = 65.12.
EXPECTED = {
    "NS-20261116-001": ("FOLLOW_UP", "133.00", "65.12", "26.60", "41.28", "bill_patient"),
    "NS-20261116-002": ("PAID", "383.00", "275.76", "107.24", "0.00", None),
    "NS-20261117-004": ("FOLLOW_UP", "178.00", "93.92", "35.60", "48.48", "bill_patient"),
    "NS-20261118-005": ("ELIGIBILITY_HOLD", "0.00", "0.00", "0.00", "0.00", None),
    "NS-20261118-006": ("CODING_HOLD", "0.00", "0.00", "0.00", "0.00", None),
    "NS-20261119-007": ("PAID", "355.00", "255.60", "99.40", "0.00", None),
    "NS-20261120-008": ("PAID", "204.00", "173.40", "30.60", "0.00", None),
    "NS-20261120-009": ("FOLLOW_UP", "86.00", "0.00", "86.00", "0.00", "appeal"),
    "NS-20261120-010": ("FOLLOW_UP", "176.00", "113.05", "62.95", "0.00", "appeal"),
    "LV-1120-01": ("FOLLOW_UP", "279.00", "158.56", "55.80", "64.64", "bill_patient"),
    "LV-1120-02": ("PAID", "142.00", "120.70", "21.30", "0.00", None),
    "LV-1120-03": ("PAID", "359.00", "258.48", "100.52", "0.00", None),
    "LV-1120-04": ("PAID", "250.00", "212.50", "37.50", "0.00", None),
    # LV-1120-05, PAYERD04 (high deductible), 530.00 billed: allowed 75% = 397.50 (CO-45 132.50); the
    # 100.00 deductible left (PR-1) and 10% coinsurance of the remaining 297.50 = 29.75 (PR-2).
    "LV-1120-05": ("FOLLOW_UP", "530.00", "267.75", "132.50", "129.75", "bill_patient"),
    "LV-1120-06": ("PAID", "314.00", "226.08", "87.92", "0.00", None),
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("demo-output")
    summary = demo.run(SAMPLES, out, timeout_s=180)
    return summary, out


def test_every_claim_ends_where_expected_to_the_cent(demo_run: tuple[dict, Path]) -> None:
    summary, _ = demo_run
    got = {
        row["encounter_id"]: (
            row["status"],
            row["billed"],
            row["paid"],
            row["adjustments"],
            row["patient_responsibility"],
        )
        for row in summary["claims"]
    }
    assert got == {k: v[:5] for k, v in EXPECTED.items()}
    for row in summary["claims"]:
        action = EXPECTED[row["encounter_id"]][5]
        if action:
            assert row["note"] == action
        billed, paid, adj, pr = (Decimal(row[k]) for k in ("billed", "paid", "adjustments", "patient_responsibility"))
        if row["status"] in ("PAID", "FOLLOW_UP"):
            assert paid + adj + pr == billed  # every cent billed is paid, adjusted or the patient's
    # The adjustment codes behind the money: contractual (CO-45), deductible, coinsurance, copay, denial.
    codes = {row["encounter_id"]: row["adjustment_codes"] for row in summary["claims"]}
    assert codes["LV-1120-05"] == ["CO-45 132.50", "PR-1 100.00", "PR-2 29.75"]
    assert codes["NS-20261116-001"] == ["CO-45 26.60", "PR-2 16.28", "PR-3 25.00"]
    assert summary["totals"] == {
        "billed": "3389.00",
        "paid": "2220.92",
        "adjustments": "883.93",
        "patient_responsibility": "284.15",
    }
    assert summary["eras"] and all(e["reconciled"] and e["era_status"] == "POSTED" for e in summary["eras"])
    assert sum(Decimal(e["total_paid"]) for e in summary["eras"]) == Decimal(summary["totals"]["paid"])
    assert summary["handler_failures"] == 0
    assert summary["dead_letter_queues"] == {q.dlq_name: 0 for q in config.LOCAL_QUEUES}


def test_rejected_records_are_reported_with_reasons(demo_run: tuple[dict, Path]) -> None:
    summary, out = demo_run
    reasons = {(r["source_key"], r["record"]): r["reason"] for r in summary["rejected_records"]}
    assert reasons[("encounters/northside-2026-11-20.json", 3)] == "diagnosis 2: E11.9X is not an ICD-10-CM code"
    assert reasons[("encounters/bad-file.json", None)].startswith("not valid JSON")
    assert len(reasons) == 2
    assert (out / "rejections" / "encounters__northside-2026-11-20.json.json").exists()


def test_demo_output_holds_valid_x12_files(demo_run: tuple[dict, Path]) -> None:
    _, out = demo_run
    summary = json.loads((out / "summary.json").read_text())
    submitted = [r for r in summary["claims"] if r["status"] in ("PAID", "FOLLOW_UP")]
    files = {kind: sorted((out / kind).iterdir()) for kind in ("837p", "999", "277ca", "835")}
    assert len(files["837p"]) == len(submitted) == 13
    assert files["999"] and files["277ca"] and files["835"]
    for kind in ("837p", "999", "277ca", "835"):
        for path in files[kind]:
            assert pyx12_errors(path.read_text()) == [], path.name
    assert list((out / "era-reports").iterdir())


def test_demo_leaves_a_screenshot_of_the_console(demo_run: tuple[dict, Path]) -> None:
    from tests.e2e.browser import chromium_path

    _, output = demo_run
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (make browser)")
    assert (output / "console.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
