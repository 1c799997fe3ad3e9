"""Proof of filing (workflow.filing): the 837P and its control numbers recorded at submission, the
send stamped by the clearinghouse exchange, the answers shown with it; and a retried submission
writes the same bytes under the same control number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from medbill.models.claim import Acknowledgement, Claim
from medbill.workflow.clearinghouse import ClearinghouseExchange
from medbill.workflow.filing import filing_view, record_sent
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import Submitter, code, enter_charges, register, submit, verify_eligibility
from medbill.workflow.views import claim_view
from tests import clearinghouse_fakes as ch_fakes
from tests.factories import make_encounter
from tests.fakes import FakeArtifacts, FakeEligibility, FakeStore

SENT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


class _Writer:
    def __init__(self, fail_first: bool = False) -> None:
        self.calls: list[tuple[int, datetime]] = []
        self.fail_first = fail_first

    def __call__(self, claim: Claim, control: int, created: datetime) -> str:
        self.calls.append((control, created))
        if self.fail_first and len(self.calls) == 1:
            raise TimeoutError("lambda timed out while writing")
        return f"ISA*{control:09d}*{created.isoformat()}*{claim.claim_id}~"


def _charged(store: FakeStore, encounter_id: str = "E1") -> str:
    from medbill.billing.fees import FeeSchedule

    claim = new_claim(make_encounter(encounter_id=encounter_id, clinic_id="clinic-northside"), "encounters/a.json", 1)
    assert store.create_claim(claim)
    register(store, claim.claim_id)
    verify_eligibility(store, FakeEligibility(), claim.claim_id)
    code(store, FeeSchedule.load, claim.claim_id)
    enter_charges(store, FeeSchedule.load, claim.claim_id)
    return claim.claim_id


def test_submission_records_the_file_and_its_control_numbers() -> None:
    store, files = FakeStore(), FakeArtifacts()
    store.next_counter("x12-interchange")  # the counter is at 1: this claim draws 2
    claim_id = _charged(store)
    submit(store, files, Submitter(write=_Writer(), outbox_prefix="outbox/837/"), claim_id)
    filing = store.get_claim(claim_id).filing
    assert filing is not None
    assert (
        filing.outbox_key,
        filing.interchange_control_number,
        filing.group_control_number,
        filing.transaction_control_number,
        filing.sent_at,
    ) == (f"outbox/837/{claim_id}-000000002.x12", "000000002", "2", "0002", None)
    assert store.claims_for_interchange(2) == [claim_id]


def test_a_retried_submission_writes_the_same_bytes_under_the_same_control_number() -> None:
    store, files = FakeStore(), FakeArtifacts()
    claim_id = _charged(store)
    writer = _Writer(fail_first=True)
    submitter = Submitter(write=writer, outbox_prefix="outbox/837/")
    with pytest.raises(TimeoutError):
        submit(store, files, submitter, claim_id)  # reserved, then the invocation died
    submit(store, files, submitter, claim_id)  # Step Functions retries the task
    first = files.read(f"outbox/837/{claim_id}-000000001.x12")
    # A third run (the save of SUBMITTED lost) would write again: the same bytes, same key.
    claim = store.get_claim(claim_id)
    assert claim.filing is not None
    assert writer.calls[0] == writer.calls[1] == (1, claim.filing.written_at)
    assert first == f"ISA*000000001*{claim.filing.written_at.isoformat()}*{claim_id}~".encode()
    assert files.keys("outbox/837/") == [f"outbox/837/{claim_id}-000000001.x12"]
    assert store.claims_for_interchange(1) == [claim_id] and store.next_counter("x12-interchange") == 2


def test_the_exchange_stamps_the_send_on_the_claim_once() -> None:
    store, files = FakeStore(), FakeArtifacts()
    claim_id = _charged(store)
    submit(store, files, Submitter(write=_Writer(), outbox_prefix="outbox/837/"), claim_id)
    key = store.get_claim(claim_id).outbox_key or ""
    artifacts = ch_fakes.FakeArtifacts({key: files.read(key)})
    clearinghouse, ledger = ch_fakes.FakeClearinghouse(), ch_fakes.FakeLedger()
    exchange = ClearinghouseExchange(
        clearinghouse,
        artifacts,
        ch_fakes.FakeOutbox(artifacts),
        ledger,
        settle_seconds=0,
        now=lambda: SENT,
        on_sent=lambda k, name, at: record_sent(store, k, name, at),
    )

    exchange.run()
    exchange.run()  # already sent: not stamped again

    claim = store.get_claim(claim_id)
    assert claim.filing is not None
    assert (claim.filing.sent_at, claim.filing.sent_name) == (SENT, f"{claim_id}-000000001.x12")
    assert [e.actor for e in store.events(claim_id)].count("clearinghouse") == 1
    assert record_sent(store, key, "again.x12", SENT) == []
    assert record_sent(store, "outbox/837/not-ours.x12", "x", SENT) == []


def test_a_failed_stamp_leaves_the_send_unrecorded_so_the_next_run_repeats_both() -> None:
    artifacts = ch_fakes.FakeArtifacts({"outbox/837/CLMX-000000001.x12": b"ISA~"})
    clearinghouse, ledger = ch_fakes.FakeClearinghouse(), ch_fakes.FakeLedger()
    stamps: list[str] = []

    def on_sent(key: str, name: str, at: datetime) -> None:
        stamps.append(name)
        if len(stamps) == 1:
            raise ConnectionError("table unavailable")

    exchange = ClearinghouseExchange(
        clearinghouse, artifacts, ch_fakes.FakeOutbox(artifacts), ledger, settle_seconds=0, on_sent=on_sent
    )
    with pytest.raises(ConnectionError):
        exchange.run()
    assert ledger.recorded("sent/") == set()
    exchange.run()
    assert stamps == ["CLMX-000000001.x12", "CLMX-000000001.x12"]
    assert clearinghouse.puts == ["CLMX-000000001.x12"]  # the second send found the file there
    assert ledger.recorded("sent/") == {"sent/outbox/837/CLMX-000000001.x12"}


def test_get_claim_shows_the_proof_of_filing() -> None:
    store, files = FakeStore(), FakeArtifacts()
    claim_id = _charged(store)
    submit(store, files, Submitter(write=_Writer(), outbox_prefix="outbox/837/"), claim_id)
    key = f"outbox/837/{claim_id}-000000001.x12"
    record_sent(store, key, f"{claim_id}-000000001.x12", SENT)
    claim = store.get_claim(claim_id)
    ack = Acknowledgement(
        kind="277CA",
        key="acks/277ca/a.277ca",
        received_at=datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
        verdict="accepted",
        codes=["A2:20"],
        payer_claim_number="PCN1",
    )
    claim = store.save(claim.model_copy(update={"acknowledgements": [ack]}), actor="test")
    assert claim.filing is not None
    expected = {
        "file": key,
        "interchange_control_number": "000000001",
        "group_control_number": "1",
        "transaction_control_number": "0001",
        "written_at": claim.filing.written_at.isoformat(),
        "sent_at": "2026-03-02T10:15:00+00:00",
        "sent_name": f"{claim_id}-000000001.x12",
        "acknowledgements": [
            {
                "kind": "277CA",
                "file": "acks/277ca/a.277ca",
                "received_at": "2026-03-02T11:00:00+00:00",
                "verdict": "accepted",
                "codes": ["A2:20"],
                "reason": None,
                "payer_claim_number": "PCN1",
            }
        ],
    }
    view = filing_view(claim)
    assert view is not None and view.model_dump() == expected
    assert claim_view(claim, store.events(claim_id)).model_dump(mode="json")["filing"] == expected
