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
from medbill.x12.status276 import read_276_claims, read_277
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
    summary = demo.run(SAMPLES, out, timeout_s=420)  # a liveness bound on a shared 2-core machine, not a timing
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
    clearinghouse = len(summary["clearinghouse"]["claims"])  # events/clearinghouse/: one 837P each, not in the table
    assert len(files["837p"]) - clearinghouse == len(submitted) == 13
    assert files["999"] and files["277ca"] and files["835"]
    for kind in ("837p", "999", "277ca", "835"):
        for path in files[kind]:
            assert pyx12_errors(path.read_text()) == [], path.name
    assert list((out / "era-reports").iterdir())


def test_the_clearinghouse_answers_and_their_follow_up(demo_run: tuple[dict, Path]) -> None:
    """events/clearinghouse/: a 999 error and a 277CA rejection send their claims to follow-up at once
    (correct_and_resubmit); the claim left without an 835 is asked about with a 276 through the SFTP
    clearinghouse and the simulator's 277 (P1:20) is recorded on it."""
    summary, out = demo_run
    section = summary["clearinghouse"]
    rows = {c["encounter_id"]: c for c in section["claims"]}
    assert {k: (c["status"], c["follow_up_action"]) for k, c in rows.items()} == {
        "NS-CH-20261123-001": ("FOLLOW_UP", "correct_and_resubmit"),
        "NS-CH-20261123-002": ("FOLLOW_UP", "correct_and_resubmit"),
        "NS-CH-20261123-003": ("ACCEPTED", None),
    }
    file_error, rejected, quiet = (rows[f"NS-CH-20261123-00{n}"] for n in (1, 2, 3))
    assert file_error["rejection_reason"].startswith("999 rejected transaction ")
    assert file_error["rejection_reason"].endswith(
        "(IK5 R): segment NM1 at position 14 in loop 2010: segment has data element errors, "
        "NM109 (element 67) invalid character in data element"
    )
    assert [(a["kind"], a["verdict"]) for a in file_error["answers"]] == [("999", "rejected")]  # no 277CA
    assert rejected["rejection_reason"] == (
        "277CA rejected: A7:562:85 Acknowledgement/Rejected for invalid information: "
        "Entity's National Provider Identifier (NPI) (billing provider)"
    )
    assert sorted((a["kind"], a["verdict"]) for a in quiet["answers"]) == [
        ("277", "pending"),
        ("277CA", "accepted"),
        ("999", "accepted"),
    ]
    answer = next(a for a in quiet["answers"] if a["kind"] == "277")
    assert (answer["codes"], answer["file"].startswith("status/277/")) == (["P1:20"], True)
    inquiry = section["status_inquiry"]
    assert (inquiry["asked"], inquiry["due"], inquiry["problems"]) == (1, 1, [])
    assert quiet["status_inquiry"] == inquiry["files"][0]
    asked = (out / "276" / inquiry["files"][0].rsplit("/", 1)[-1]).read_text()
    assert [q["claim_id"] for q in read_276_claims(asked)] == [quiet["claim_id"]]
    (answered,) = sorted((out / "277").iterdir())
    assert [(c.claim_id, c.categories) for c in read_277(answered.read_text()).claims] == [(quiet["claim_id"], ["P1"])]
    errors_999 = [p for p in (out / "999").iterdir() if "IK5*R" in p.read_text()]
    assert len(errors_999) == 1 and pyx12_errors(errors_999[0].read_text()) == []
    assert summary["handler_failures"] == 0 and not any(summary["dead_letter_queues"].values())


def test_demo_leaves_a_screenshot_of_the_console(demo_run: tuple[dict, Path]) -> None:
    from tests.e2e.browser import chromium_path

    _, output = demo_run
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (make browser)")
    assert (output / "console.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
