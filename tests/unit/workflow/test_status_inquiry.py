"""The scheduled claim status inquiry (workflow.claim_status.send_status_inquiries): quiet claims get
one 276 per payer in outbox/276/, with control numbers from the 837P's counter, each claim stamped
so the next run does not ask again; per-payer times come from payer_policies.json; a 277 answer is
read by the acks path (status/277/)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medbill.billing import payer_policy
from medbill.models.claim import Acknowledgement, Claim, Filing
from medbill.models.status import ClaimStatus as S
from medbill.workflow.acknowledgements import ack_kind, receive_ack_file
from medbill.workflow.claim_status import (
    InquiryPolicy,
    PayerPolicyTimes,
    PayerTimes,
    send_status_inquiries,
    status_request,
)
from medbill.workflow.filing import record_sent
from medbill.workflow.intake import new_claim
from medbill.x12.ack277ca import StatusCode
from medbill.x12.claim837 import ControlNumbers
from medbill.x12.status276 import StatusAnswer, StatusRequest, read_276_claims, write_276, write_277
from medbill.x12.tokenizer import tokenize
from tests.factories import make_encounter
from tests.fakes import FakeArtifacts, FakeStore, FakeWorkflow

SENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _write(requests: Sequence[StatusRequest], number: int, created: datetime) -> str:
    return write_276(
        requests,
        sender_id="MEDBILL",
        receiver_id="CLEARINGHOUSE",
        submitter_name="MEDBILL BILLING",
        control_numbers=ControlNumbers(number, number),
        created=created,
        usage="T",
    )


def _claim(n: int, status: S, *, payer: str = "PAYERA01", acks: tuple[str, ...] = (), **enc: object) -> Claim:
    encounter = make_encounter(encounter_id=f"E{n}", clinic_id="clinic-northside", coverage__payer_id=payer, **enc)
    claim = new_claim(encounter, "encounters/a.json", n)
    filing = Filing(
        outbox_key=f"outbox/837/{claim.claim_id}-{n:09d}.x12",
        interchange_control_number=f"{n:09d}",
        group_control_number=str(n),
        transaction_control_number="0001",
        written_at=SENT - timedelta(minutes=5),
        sent_at=SENT,
    )
    acknowledgements = [
        Acknowledgement(kind=k, key=f"acks/{k}/{n}", received_at=SENT + timedelta(hours=1), verdict="accepted")  # type: ignore[arg-type]
        for k in acks
    ]
    return claim.model_copy(
        update={"status": status, "filing": filing, "acknowledgements": acknowledgements, "total_charge": D("148.00")}
    )


def _store(*claims: Claim) -> FakeStore:
    store = FakeStore()
    for claim in claims:
        assert store.create_claim(claim)
    return store


def test_quiet_claims_get_one_276_per_payer_and_are_not_asked_again_at_once() -> None:
    a1 = _claim(1, S.AWAITING_REMITTANCE)  # no 277CA after 48 h
    a2 = _claim(2, S.ACCEPTED, acks=("999", "277CA"))  # accepted, no 835 after 30 days
    b1 = _claim(3, S.SUBMITTED, payer="PAYERB02")
    answered = _claim(4, S.AWAITING_REMITTANCE, acks=("277CA",))  # 277CA came, 835 not due yet
    paid = _claim(5, S.PAID)
    store, files = _store(a1, a2, b1, answered, paid), FakeArtifacts()
    store.next_counter("x12-interchange")  # the 837Ps used number 1 already
    now = SENT + timedelta(days=31)

    run = send_status_inquiries(store, files, _write, now, InquiryPolicy())

    assert run.files == ["outbox/276/PAYERA01-000000002.x12", "outbox/276/PAYERB02-000000003.x12"]
    assert (run.checked, run.due, run.problems) == (4, 3, [])
    assert sorted(run.asked) == sorted([a1.claim_id, a2.claim_id, b1.claim_id])
    asked_a = read_276_claims(files.read(run.files[0]).decode())
    assert [(q["claim_id"], q["payer_id"], q["total_charge"]) for q in asked_a] == [
        (a1.claim_id, "PAYERA01", "148.00"),  # by status: the by-status index is read in INQUIRY_STATUSES order
        (a2.claim_id, "PAYERA01", "148.00"),
    ]
    isa = next(iter(tokenize(files.read(run.files[1]).decode())))
    assert (isa.get(13), isa.get(15)) == ("000000003", "T")
    stamped = store.get_claim(a1.claim_id)
    assert stamped.status_inquiry is not None
    assert (stamped.status_inquiry.key, stamped.status_inquiry.asked_at) == (run.files[0], now)
    assert stamped.status == S.AWAITING_REMITTANCE  # asking changes no status
    assert [e.detail for e in store.events(a1.claim_id)][-1] == {"status_inquiry": run.files[0]}

    again = send_status_inquiries(store, files, _write, now + timedelta(hours=47), InquiryPolicy())
    assert (again.files, again.due) == ([], 0)
    later = send_status_inquiries(store, files, _write, now + timedelta(hours=48), InquiryPolicy())
    assert later.due == 3


def test_a_claim_the_276_cannot_carry_is_named_and_the_others_still_go() -> None:
    good = _claim(1, S.AWAITING_REMITTANCE)
    uncharged = _claim(2, S.AWAITING_REMITTANCE).model_copy(update={"total_charge": None})
    store, files = _store(good, uncharged), FakeArtifacts()

    run = send_status_inquiries(store, files, _write, SENT + timedelta(days=3), InquiryPolicy())

    assert run.problems == [f"{uncharged.claim_id}: claim {uncharged.claim_id} has no total charge (not charged yet)"]
    assert [q["claim_id"] for q in read_276_claims(files.read(run.files[0]).decode())] == [good.claim_id]
    assert store.get_claim(uncharged.claim_id).status_inquiry is None


def test_a_dependent_is_asked_about_under_the_subscriber() -> None:
    dependent = _claim(
        1,
        S.ACCEPTED,
        subscriber={
            "relationship": "child",
            "person": {
                "last_name": "Parent",
                "first_name": "Pat",
                "date_of_birth": "1970-01-01",
                "sex": "F",
                "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701"},
            },
        },
    )
    request = status_request(dependent)
    assert request.patient is not None and request.subscriber.member_id == dependent.encounter.coverage.member_id
    assert (request.subscriber.last_name, request.patient.last_name) == (
        "Parent",
        dependent.encounter.patient.last_name,
    )
    text = _write([request], 9, SENT)
    assert [seg.get(3) for seg in tokenize(text) if seg.id == "HL"] == ["20", "21", "19", "22", "23"]


@pytest.fixture
def policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "payer_policies.json"
    path.write_text(
        json.dumps(
            {
                "default": {"status_ack_hours": 48, "status_remittance_days": 30},
                "by_filing_indicator": {"MB": {"status_remittance_days": 14}},
                "by_payer": {"FAST": {"status_ack_hours": 6}},
            }
        )
    )
    monkeypatch.setenv(payer_policy.POLICIES_ENV, str(path))
    payer_policy._document.cache_clear()
    yield path
    payer_policy._document.cache_clear()


@pytest.mark.usefixtures("policies")
def test_the_times_come_from_the_payer_configuration() -> None:
    fast = _claim(1, S.AWAITING_REMITTANCE, payer="FAST")
    medicare = _claim(2, S.ACCEPTED, acks=("277CA",), coverage__claim_filing_indicator="MB")
    times = PayerPolicyTimes()
    assert (times.times(fast), times.times(medicare)) == (PayerTimes(6, 30), PayerTimes(48, 14))
    store, files = _store(fast, medicare), FakeArtifacts()

    assert send_status_inquiries(store, files, _write, SENT + timedelta(hours=6)).asked == [fast.claim_id]
    # 14 days on: Medicare's remittance wait is over; FAST (still no 277CA) is asked again, 6 h having passed
    assert send_status_inquiries(store, files, _write, SENT + timedelta(days=14)).asked == [
        fast.claim_id,
        medicare.claim_id,
    ]


def _277(store: FakeStore, files: FakeArtifacts, key: str, answers: list[tuple[str, str]]) -> None:
    text = write_277(
        [
            StatusAnswer(
                claim_id=cid,
                payer_id="PAYERA01",
                status=StatusCode.parse(stc),
                effective=SENT,
                total_charge=D("148.00"),
                paid=D("100.00") if stc.startswith("F1") else None,
                payer_claim_number="PCN-9" if stc.startswith("F") else None,
            )
            for cid, stc in answers
        ],
        sender_id="CLEARINGHOUSE",
        receiver_id="MEDBILL",
        control_numbers=ControlNumbers(40, 40),
        created=SENT,
    )
    files.write(key, text)


def test_a_277_in_status_277_is_read_by_the_acks_path_once() -> None:
    finalized = _claim(1, S.ACCEPTED).model_copy(update={"task_token": "tok-1"})
    unavailable = _claim(2, S.AWAITING_REMITTANCE).model_copy(update={"task_token": "tok-2"})
    returned = _claim(3, S.AWAITING_REMITTANCE).model_copy(update={"task_token": "tok-3"})
    store, files, workflow = _store(finalized, unavailable, returned), FakeArtifacts(), FakeWorkflow()
    key = "status/277/PAYERA01-000000002.277"
    assert ack_kind(key) == "277"
    _277(
        store,
        files,
        key,
        [(finalized.claim_id, "F1:65"), (unavailable.claim_id, "E1:484"), (returned.claim_id, "A3:21")],
    )

    summary = receive_ack_file(store, files, workflow, key, received_at=SENT + timedelta(days=31))

    assert summary.claims == {
        finalized.claim_id: "recorded",
        unavailable.claim_id: "recorded",  # E*: the payer could not answer, no news about the claim
        returned.claim_id: "rejected",
    }
    assert workflow.resumed == [("tok-3", {"outcome": "rejected"})]
    assert store.get_claim(unavailable.claim_id).status == S.AWAITING_REMITTANCE
    kept = store.get_claim(finalized.claim_id)
    assert (kept.status, kept.task_token, kept.acknowledgements[-1].codes) == (S.ACCEPTED, "tok-1", ["F1:65"])
    assert kept.acknowledgements[-1].payer_claim_number == "PCN-9"
    again = receive_ack_file(store, files, workflow, key, received_at=SENT + timedelta(days=32))
    assert set(again.claims.values()) == {"duplicate"}


def test_sending_a_276_stamps_no_claims_filing() -> None:
    claim = _claim(1, S.AWAITING_REMITTANCE)
    assert claim.filing is not None
    claim = claim.model_copy(update={"filing": claim.filing.model_copy(update={"sent_at": None})})
    store = _store(claim)
    store.record_interchange(1, claim.claim_id)
    assert record_sent(store, "outbox/276/PAYERA01-000000001.x12", "PAYERA01-000000001.x12", SENT) == []
    assert record_sent(store, claim.filing.outbox_key, "n", SENT) == [claim.claim_id]  # the 837P still does


# --- property: whatever the mix of claims, the 276s ask exactly about the due ones ---------------
_STATUSES = [S.SUBMITTED, S.AWAITING_REMITTANCE, S.ACCEPTED, S.PAID, S.FOLLOW_UP, S.REJECTED]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_STATUSES),
            st.sampled_from(["PAYERA01", "PAYERB02", "PAYERC03"]),
            st.booleans(),  # a 277CA came
            st.integers(min_value=0, max_value=40 * 24),  # hours since the send
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_276s_ask_about_exactly_the_quiet_claims(rows: list[tuple[S, str, bool, int]]) -> None:
    now = SENT + timedelta(days=60)
    claims = []
    for n, (status, payer, acked, hours) in enumerate(rows, 1):
        claim = _claim(n, status, payer=payer, acks=("277CA",) if acked else ())
        assert claim.filing is not None
        sent = now - timedelta(hours=hours)
        claims.append(claim.model_copy(update={"filing": claim.filing.model_copy(update={"sent_at": sent})}))
    store, files = _store(*claims), FakeArtifacts()

    run = send_status_inquiries(store, files, _write, now, InquiryPolicy())

    expected = set()
    for claim, (status, _payer, acked, hours) in zip(claims, rows, strict=True):
        no_277ca = status in (S.SUBMITTED, S.AWAITING_REMITTANCE) and not acked and hours >= 48
        no_835 = status == S.ACCEPTED and hours >= 30 * 24
        if no_277ca or no_835:
            expected.add(claim.claim_id)
    asked = [(q["claim_id"], q["payer_id"]) for key in run.files for q in read_276_claims(files.read(key).decode())]
    assert {cid for cid, _ in asked} == expected == set(run.asked)
    assert len(asked) == len(expected)  # each once
    by_id = {c.claim_id: c.payer_id for c in claims}
    assert all(
        by_id[cid] == payer and key.split("/")[-1].startswith(payer)
        for (cid, payer), key in _with_keys(run.files, files)
    )


def _with_keys(keys: list[str], files: FakeArtifacts) -> list[tuple[tuple[str, str], str]]:
    return [((q["claim_id"], q["payer_id"]), key) for key in keys for q in read_276_claims(files.read(key).decode())]


# --- property: a 277's category alone decides whether a waiting claim is rejected -----------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["A0", "A1", "A2", "A3", "A4", "A6", "A7", "A8", "P1", "P3", "F1", "F2", "F4", "E0", "E1", "R4"]
            ),
            st.sampled_from(["20", "21", "35", "65", "88", "484"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_277_rejects_exactly_the_claims_it_returns_or_cannot_find(answers: list[tuple[str, str]]) -> None:
    claims = [
        _claim(n, S.AWAITING_REMITTANCE).model_copy(update={"task_token": f"tok-{n}"}) for n in range(len(answers))
    ]
    store, files, workflow = _store(*claims), FakeArtifacts(), FakeWorkflow()
    key = "status/277/prop.277"
    _277(store, files, key, [(c.claim_id, f"{cat}:{code}") for c, (cat, code) in zip(claims, answers, strict=True)])

    summary = receive_ack_file(store, files, workflow, key, received_at=SENT + timedelta(days=3))

    rejecting = {"A3", "A4", "A6", "A7", "A8"}
    for claim, (category, code) in zip(claims, answers, strict=True):
        after = store.get_claim(claim.claim_id)
        assert summary.claims[claim.claim_id] == ("rejected" if category in rejecting else "recorded")
        assert after.status == (S.REJECTED if category in rejecting else S.AWAITING_REMITTANCE)
        assert after.acknowledgements[-1].codes == [f"{category}:{code}"]
    assert sorted(workflow.resumed) == sorted(
        (f"tok-{n}", {"outcome": "rejected"}) for n, (cat, _) in enumerate(answers) if cat in rejecting
    )
