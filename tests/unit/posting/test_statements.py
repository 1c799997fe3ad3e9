"""Patient statements (issue 10, item 6) on the in-memory fakes: once the payer adjudicated, the
patient balance goes on a monthly statement per guarantor (PDF read back, print-vendor record), the
30/60/90 cadence, no second statement in a cycle, and patient payments changing the balance."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from medbill.billing.writeoffs import PatientMoneyRequest, patient_payment
from medbill.models.encounter import Subscriber
from medbill.workflow.stages import follow_up
from medbill.workflow.statements import run_statements
from medbill.x12.remittance835 import Adjustment, ClaimPayment
from testkit.era_builder import era_for
from tests.factories import CANARY_FIRST, CANARY_LAST
from tests.fakes import FakeArtifacts
from tests.posting_harness import Posting, make_claim

D = Decimal
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _billed(p: Posting, claim_id: str, patient_id: str, coinsurance: str = "24.00", dependent: bool = False) -> None:
    claim = make_claim(p.repo, claim_id, dos=date(2026, 10, 5), lines=LINES)
    update: dict[str, object] = {"patient_id": patient_id}
    if dependent:
        subscriber = Subscriber.model_validate(
            {
                "relationship": "child",
                "person": {
                    "last_name": "Guarantor",
                    "first_name": "Pat",
                    "date_of_birth": "1970-01-01",
                    "sex": "F",
                    "address": {"line1": "1 Payer Way", "city": "Springfield", "state": "IL", "postal_code": "62702"},
                },
            }
        )
        update["encounter"] = claim.encounter.model_copy(update={"subscriber": subscriber})
    p.repo.save(claim.model_copy(update=update), actor="test")
    paid = D("120.00") - D(coinsurance)
    pay = ClaimPayment(
        claim_id, "1", D("150.00"), paid, D(coinsurance), "CI", f"P{claim_id}",
        adjustments=[Adjustment("CO", "45", D("30.00")), Adjustment("PR", "2", D(coinsurance))],
    )  # fmt: skip
    p.receive(f"era/{claim_id}.835", era_for([], payer_id="PAYERA01", trace=f"T{claim_id}", extra_claims=[pay]))
    p.post_queued()
    assert follow_up(p.repo, claim_id, "short_paid").action == "bill_patient"


def _text(files: FakeArtifacts, key: str) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(files.read(key))).pages)


def test_monthly_statement_per_guarantor_with_the_30_60_90_cadence(posting: Posting) -> None:
    p, files = posting, FakeArtifacts()
    _billed(p, "ST1", "PAT1")
    _billed(p, "ST2", "PAT1", coinsurance="12.50")
    first = run_statements(p.repo, files, date(2026, 11, 3))
    assert first == {"cycle": "2026-11", "sent": ["PAT1-2026-11"], "skipped": 0, "past_final_notice": 0}
    text = _text(files, "statements/2026-11/PAT1-2026-11.pdf")
    assert f"{CANARY_FIRST} {CANARY_LAST}" in text and "12 Canary Row" in text
    assert "Notice: statement" in text and "Amount due: 36.50" in text and "Please pay by 2026-11-28" in text
    assert "99213 36415" in text and "24.00" in text and "12.50" in text
    vendor = files.read("statements/2026-11/PAT1-2026-11.txt").decode().splitlines()
    assert vendor[0].split("|")[:7] == ["H", "MBSTMT1", "PAT1-2026-11", "2026-11-03", "2026-11-28", "1", "statement"]
    assert [row.split("|")[0] for row in vendor] == ["H", "G", "L", "L", "T"]
    assert vendor[-1] == "T|PAT1-2026-11|2|36.50"
    # The same cycle again: no second statement.
    again = run_statements(p.repo, files, date(2026, 11, 20))
    assert again["sent"] == [] and again["skipped"] == 1
    # A payment changes the balance on the next month's 30-day notice.
    patient_payment(p.repo, "ST1", PatientMoneyRequest(request_id="pay-1", amount=D("10.00")), "front-desk")
    assert run_statements(p.repo, files, date(2026, 12, 3))["sent"] == ["PAT1-2026-12"]
    december = _text(files, "statements/2026-12/PAT1-2026-12.pdf")
    assert "Notice: 30 days past due" in december and "Amount due: 26.50" in december
    run_statements(p.repo, files, date(2027, 1, 3))
    assert "Notice: 60 days past due" in _text(files, "statements/2027-01/PAT1-2027-01.pdf")
    run_statements(p.repo, files, date(2027, 2, 3))
    assert "Notice: 90 days past due - final notice" in _text(files, "statements/2027-02/PAT1-2027-02.pdf")
    after = run_statements(p.repo, files, date(2027, 3, 3))
    assert after["sent"] == [] and after["past_final_notice"] == 1


def test_a_dependent_statement_goes_to_the_subscriber_and_a_paid_balance_gets_none(posting: Posting) -> None:
    p, files = posting, FakeArtifacts()
    _billed(p, "DEP1", "PAT2", dependent=True)
    _billed(p, "PAID1", "PAT3")
    patient_payment(p.repo, "PAID1", PatientMoneyRequest(request_id="all", amount=D("24.00")), "front-desk")
    assert run_statements(p.repo, files, date(2026, 11, 3))["sent"] == ["PAT2-2026-11"]
    text = _text(files, "statements/2026-11/PAT2-2026-11.pdf")
    assert "Pat Guarantor" in text and "1 Payer Way" in text and CANARY_LAST not in text
