"""billing.era_ingestion word for word, on the in-memory fakes: the exact ERA record, file report and
summary a person sees for an unreadable, undecodable or changed-after-release file, for its copies,
for a clean and a quarantined payment, the exact result of a claim payment that cannot be posted,
and a big file's fan-out resumed from its checkpoint with its report rebuilt."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from medbill.billing import era_fanout, era_ingestion
from medbill.billing.era import EraFileSummary, continue_era_file, receive_era_file, release_era
from medbill.billing.era_ingestion import EraRecordConflict
from medbill.x12.remittance835 import Adjustment, ClaimPayment, Payment, ProviderAdjustment, ServiceLine, write_835
from testkit import fake_era_store, fake_store, fakes
from testkit.era_builder import claim_payment, era_for
from tests.posting_harness import Posting, era_text, make_claim
from tests.unit.posting.test_era_encoding import KEY as LATIN1_KEY
from tests.unit.posting.test_era_encoding import _latin1
from tests.unit.posting.test_era_fanout import _clock
from tests.unit.posting.test_era_fanout import _payment as _fanout_payment
from tests.unit.posting.test_era_limits import _huge_claim

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
AT = T0.isoformat()


class Clock:
    """The time every module of the ingestion (and the fake store) reads; a test moves it on."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> str:
        self.now += timedelta(minutes=1)
        return self.now.isoformat()


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    for module in (era_ingestion, era_fanout, fake_store, fake_era_store):
        monkeypatch.setattr(module, "utcnow", c)
    return c


def _report(p: Posting, key: str) -> dict[str, Any]:
    return json.loads(p.artifacts.read(f"era-reports/{key}.json"))


def _record(p: Posting, era_id: str) -> dict[str, Any]:
    record = p.repo.get_era(era_id)
    assert record is not None
    return record


# --- a file that cannot be read ---------------------------------------------------------------------
JUNK_ID = "F3DD95120A2BBF687"
JUNK_ERROR = "not a readable X12 835: Not X12: the input does not start with an ISA segment."


def _unreadable_record(**more: Any) -> dict[str, Any]:
    return {
        "era_id": f"FILE-{JUNK_ID}",
        "file_id": JUNK_ID,
        "source_key": "era/junk.835",
        "era_status": "QUARANTINED",
        "problems": [JUNK_ERROR],
        "unreadable": True,
        "total_paid": "0.00",
        "claim_count": 0,
        "plb_total": "0.00",
        "received_at": AT,
        "updated_at": AT,
        **more,
    }


def test_an_unreadable_file_gets_a_quarantined_file_record_and_a_report_saying_why(p: Posting) -> None:
    summary = p.receive("era/junk.835", "hello, not an 835")
    assert summary == EraFileSummary(
        source_key="era/junk.835",
        report_key="era-reports/era/junk.835.json",
        file_id=JUNK_ID,
        file_error=JUNK_ERROR,
        quarantined=True,
        era_ids=[f"FILE-{JUNK_ID}"],
    )
    assert _record(p, f"FILE-{JUNK_ID}") == _unreadable_record()
    assert _report(p, "era/junk.835") == {
        "source_key": "era/junk.835",
        "file_id": JUNK_ID,
        "processed_at": AT,
        "file_error": JUNK_ERROR,
        "status": "QUARANTINED",
    }
    assert p.queue.messages == []


def test_an_unreadable_file_again_under_its_own_key_is_no_copy(p: Posting, clock: Clock) -> None:
    p.receive("era/junk.835", "hello, not an 835")
    later = clock.tick()
    again = p.receive("era/junk.835", "hello, not an 835")
    assert (again.duplicate_of, again.era_ids, again.quarantined) == (None, [f"FILE-{JUNK_ID}"], True)
    assert _record(p, f"FILE-{JUNK_ID}") == _unreadable_record()  # unchanged: no duplicate key, same times
    assert _report(p, "era/junk.835") == {
        "source_key": "era/junk.835",
        "file_id": JUNK_ID,
        "processed_at": later,
        "file_error": JUNK_ERROR,
        "status": "QUARANTINED",
    }


def test_an_unreadable_file_under_another_key_is_a_copy_of_the_first(p: Posting, clock: Clock) -> None:
    p.receive("era/junk.835", "hello, not an 835")
    later = clock.tick()
    copy = p.receive("era/junk-copy.835", "hello, not an 835")
    assert (copy.duplicate_of, copy.era_ids, copy.quarantined) == ("era/junk.835", [f"FILE-{JUNK_ID}"], True)
    assert _record(p, f"FILE-{JUNK_ID}") == _unreadable_record(duplicate_keys={"era/junk-copy.835"}, updated_at=later)
    assert _report(p, "era/junk-copy.835") == {
        "source_key": "era/junk-copy.835",
        "file_id": JUNK_ID,
        "processed_at": later,
        "file_error": JUNK_ERROR,
        "status": "QUARANTINED",
        "duplicate_of": "era/junk.835",
    }


# --- a file that is not UTF-8 -----------------------------------------------------------------------
def _file_error(p: Posting, body: bytes, encoding: str | None = None) -> str | None:
    p.artifacts.write("era/bytes.835", body)
    return receive_era_file(p.repo, p.artifacts, p.queue, "era/bytes.835", encoding=encoding).file_error


def _not_utf8(offset: int, segment: int) -> str:
    return (
        f"the file is not UTF-8 text (the first byte that is not is at offset {offset}, in segment {segment}); "
        "if it is latin-1 or windows-1252, a person can release it with that encoding"
    )


def test_where_a_file_stops_being_utf8_is_counted_in_its_own_segment_terminator(p: Posting) -> None:
    text = era_for([], payer_id="PAYERA01", trace="ENC1").replace("TEST PAYER", "CAF\xc9")
    body = text.encode("latin-1")
    at = body.index(b"\xc9")
    assert _file_error(p, body) == _not_utf8(at, body[:at].count(b"~") + 1)
    bang = text.replace("~", "!").encode("latin-1")  # ISA16 and every segment end in "!": "~" counts nothing
    assert bang[105:106] == b"!" and b"~" not in bang
    assert _file_error(p, bang) == _not_utf8(at, bang[:at].count(b"!") + 1)
    record = _record(p, f"FILE-{era_ingestion.file_id_for(bang)}")
    assert (record["encoding_unknown"], record["problems"]) == (True, [_not_utf8(at, 6)])


def test_a_short_or_headless_file_is_counted_in_tildes(p: Posting) -> None:
    isa105 = b"ISA*00*" + b"~" * 3 + b"\xff" + b"A" * 94  # 105 bytes: no ISA16 to read
    assert len(isa105) == 105
    assert _file_error(p, isa105) == _not_utf8(10, 4)
    isa106 = b"ISA*00*" + b"!" * 3 + b"\xff" + b"A" * 94 + b"!"  # 106 bytes: ISA16 is "!"
    assert _file_error(p, isa106) == _not_utf8(10, 4)
    headless = b"~AB~\xff"  # no ISA: "~", from the first byte
    assert _file_error(p, headless) == _not_utf8(4, 3)
    long_headless = b"XY~" * 40 + b"\xff"  # no ISA, over 105 bytes: still "~", not the 106th byte
    assert _file_error(p, long_headless) == _not_utf8(120, 41)


def test_a_file_that_is_not_its_confirmed_encoding_either_says_so_and_keeps_the_last_problems(p: Posting) -> None:
    body = _latin1(p).replace("É".encode("latin-1"), b"\x81")  # undefined in windows-1252
    p.artifacts.write(LATIN1_KEY, body)
    [era_id] = receive_era_file(p.repo, p.artifacts, p.queue, LATIN1_KEY).era_ids
    first = _record(p, era_id)["problems"]
    assert len(first) == 1
    at = body.index(b"\x81")
    wrong = f"the file is not windows-1252 text either (byte offset {at}, segment {body[:at].count(b'~') + 1})"
    for n in range(1, 7):  # released six times with an encoding it is not in
        release_era(p.repo, p.releases, era_id, "staff:test", encoding="windows-1252")
        again = receive_era_file(
            p.repo,
            p.artifacts,
            p.queue,
            LATIN1_KEY,
            released_file_id=_record(p, era_id)["file_id"],
            encoding="windows-1252",
        )
        assert (again.file_error, again.encoding_unknown, again.duplicate_of) == (wrong, False, None)
        # The record keeps its first five problems and the latest one: at most six.
        assert _record(p, era_id)["problems"] == [*first, *[wrong] * min(n, 5)]
        assert _record(p, era_id)["era_status"] == "QUARANTINED"


# --- a file over the size limit ---------------------------------------------------------------------
def test_a_file_over_the_size_limit_is_named_by_its_head_and_size(p: Posting, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(era_ingestion, "MAX_ERA_BYTES", 10)
    p.artifacts.write("era/big.835", b"ISA*00*...")  # 10 bytes: at the limit
    p.artifacts.write("era/bigger.835", b"ISA*00*....")  # 11 bytes
    summary = receive_era_file(p.repo, p.artifacts, p.queue, "era/bigger.835")
    file_id = era_ingestion.file_id_for_head(b"ISA*00*....", 11)
    assert (summary.file_id, summary.era_ids) == (file_id, [f"FILE-{file_id}"])
    assert _report(p, "era/bigger.835") == {
        "source_key": "era/bigger.835",
        "file_id": file_id,
        "processed_at": AT,
        "file_error": summary.file_error,
        "status": "QUARANTINED",
    }
    at_limit = receive_era_file(p.repo, p.artifacts, p.queue, "era/big.835")  # read, and found wanting
    assert at_limit.file_error == (
        "not a readable X12 835: truncated: the file ends inside the ISA at segment 1; "
        "expected 16 elements followed by a segment terminator."
    )


def test_a_big_file_whose_object_is_empty_by_the_time_it_is_read_still_gets_its_record(
    p: Posting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notification said 11 bytes; the object was replaced by an empty one before the read."""
    monkeypatch.setattr(era_ingestion, "MAX_ERA_BYTES", 10)
    p.artifacts.write("era/gone.835", b"")
    summary = receive_era_file(p.repo, p.artifacts, p.queue, "era/gone.835", size=11)
    assert (summary.file_id, summary.quarantined) == (era_ingestion.file_id_for_head(b"", 11), True)
    assert _record(p, f"FILE-{summary.file_id}")["problems"] == [summary.file_error]


# --- payments: the record and the report ------------------------------------------------------------
def _header(era_id: str, file_id: str, key: str, **more: Any) -> dict[str, Any]:
    return {
        "era_id": era_id,
        "file_id": file_id,
        "source_key": key,
        "payer_id": "1PAYERA010",
        "trace_number": "CHG1",
        "payer_name": "TEST PAYER",
        "payee_npi": "1234567893",
        "payment_method": "ACH",
        "payment_date": "20261125",
        "total_paid": "119.00",
        "claim_count": 1,
        "plb_total": "0.00",
        "received_at": AT,
        "updated_at": AT,
        **more,
    }


UNBALANCED = (
    "BPR at segment 4 (trace CHG1): total paid 119.00 but claims paid 120.00 - provider adjustments 0.00 = 120.00"
)


def _unbalanced(p: Posting) -> str:
    claim = make_claim(p.repo, "CHG01", dos=DOS, lines=LINES)
    return era_for([(claim, "paid")], payer_id="PAYERA01", trace="CHG1").replace("BPR*I*120.00*", "BPR*I*119.00*")


def test_a_payment_that_does_not_balance_is_quarantined_with_its_problem_on_record_and_report(p: Posting) -> None:
    summary = p.receive("era/chg.835", _unbalanced(p))
    file_id = summary.file_id
    assert _record(p, "1PAYERA010-CHG1") == _header(
        "1PAYERA010-CHG1", file_id, "era/chg.835", era_status="QUARANTINED", problems=[UNBALANCED]
    )
    assert _report(p, "era/chg.835") == {
        "source_key": "era/chg.835",
        "file_id": file_id,
        "processed_at": AT,
        "payments": [
            {
                "era_id": "1PAYERA010-CHG1",
                "era_status": "QUARANTINED",
                "total_paid": "119.00",
                "claims": 1,
                "balanced": False,
            }
        ],
        "problems": [UNBALANCED],
        "problem_count": 1,
        "status": "QUARANTINED",
        "release": "POST /eras/{era_id}/release posts this file once a person has checked it",
    }
    assert (summary.payments, summary.problems, summary.quarantined) == (1, [UNBALANCED], True)


def test_another_file_for_the_same_payment_gets_its_own_record_naming_the_first(p: Posting) -> None:
    p.receive("era/chg.835", _unbalanced(p))
    other = p.receive("era/other.835", p.artifacts.read("era/chg.835").decode().replace("TEST CLINIC", "TEST CLINIC B"))
    copy_id = f"1PAYERA010-CHG1~{other.file_id}"
    conflict = (
        f"payment 1PAYERA010-CHG1 was already received in another file (era/chg.835); this file's copy is {copy_id}"
    )
    assert other.era_ids == [copy_id] and other.problems == [conflict, UNBALANCED]
    assert _record(p, copy_id) == _header(
        copy_id, other.file_id, "era/other.835", era_status="QUARANTINED", problems=[conflict, UNBALANCED]
    )
    assert _report(p, "era/other.835")["problems"] == [conflict, UNBALANCED]
    assert _record(p, "1PAYERA010-CHG1")["source_key"] == "era/chg.835"  # the first file's record as it was


def test_a_released_payment_posts_and_its_record_says_posting(p: Posting, clock: Clock) -> None:
    text = _unbalanced(p)
    first = p.receive("era/chg.835", text)
    release_era(p.repo, p.releases, "1PAYERA010-CHG1", "biller")
    assert _record(p, "1PAYERA010-CHG1")["era_status"] == "RELEASED"
    later = clock.tick()
    released = receive_era_file(
        p.repo, p.artifacts, p.queue, "era/chg.835", released=True, released_file_id=first.file_id
    )
    assert (released.claims_queued, released.quarantined, released.era_ids) == (1, False, ["1PAYERA010-CHG1"])
    assert _record(p, "1PAYERA010-CHG1") == _header(
        "1PAYERA010-CHG1", first.file_id, "era/chg.835", era_status="POSTING", problems=[UNBALANCED], updated_at=later
    )
    report = _report(p, "era/chg.835")
    assert (report["status"], report["claims_queued"], report["continues"]) == ("RELEASED", 1, False)
    assert report["payments"] == [
        {"era_id": "1PAYERA010-CHG1", "era_status": "POSTING", "total_paid": "119.00", "claims": 1, "balanced": False}
    ]


def test_a_released_file_that_changed_goes_back_to_the_person_with_why(p: Posting, clock: Clock) -> None:
    text = _unbalanced(p)
    first = p.receive("era/chg.835", text)
    release_era(p.repo, p.releases, "1PAYERA010-CHG1", "biller")
    p.artifacts.write("era/chg.835", (text + "\n").encode())  # changed before the release ran
    later = clock.tick()

    after = receive_era_file(p.repo, p.artifacts, p.queue, "era/chg.835", released=True, released_file_id=first.file_id)

    changed = "the file at era/chg.835 changed after it was released; release the new file separately"
    new_id = era_ingestion.file_id_for((text + "\n").encode())
    assert after == EraFileSummary(
        source_key="era/chg.835",
        report_key="era-reports/era/chg.835.json",
        file_id=new_id,
        quarantined=True,
        era_ids=["1PAYERA010-CHG1"],
        problems=[changed],
    )
    assert _report(p, "era/chg.835") == {
        "source_key": "era/chg.835",
        "file_id": new_id,
        "processed_at": later,
        "status": "QUARANTINED",
        "problems": [changed],
        "era_ids": ["1PAYERA010-CHG1"],
    }
    assert _record(p, "1PAYERA010-CHG1") == _header(
        "1PAYERA010-CHG1",
        first.file_id,
        "era/chg.835",
        era_status="QUARANTINED",
        problems=[UNBALANCED, changed],
        updated_at=later,
    )
    # The same release request again (SQS at least once): the record is no longer RELEASED, nothing changes.
    again = receive_era_file(p.repo, p.artifacts, p.queue, "era/chg.835", released=True, released_file_id=first.file_id)
    assert (again.era_ids, again.problems) == ([], [changed])
    assert _record(p, "1PAYERA010-CHG1")["problems"] == [UNBALANCED, changed]
    assert p.queue.messages == []


# --- a claim payment that cannot be posted ----------------------------------------------------------
def test_the_result_of_each_claim_payment_that_cannot_be_posted_names_it_within_the_limits(p: Posting) -> None:
    long_id, long_pcn = "L" * 39, "P" * 51
    unreadable = ClaimPayment(
        long_id,
        "1",
        D("10.00"),
        D("10.00"),
        D("0"),
        "CI",
        long_pcn,
        lines=[ServiceLine("HC", "99213", D("10.00"), D("10.00"))],
    )
    bad_clp01 = ClaimPayment("H" * 39, "1", D("10.00"), D("10.00"), D("0"), "CI", "PB")
    many = ClaimPayment(
        "MANY01", "1", D("21.00"), D("0.00"), D("0"), "CI", "PC", adjustments=[Adjustment("ZQ", "45", D("1.00"))] * 21
    )
    text = era_text([unreadable, bad_clp01, many], [], "NP1")
    assert "SVC*HC:99213*10.00*10.00" in text
    text = text.replace("SVC*HC:99213*10.00*10.00", "SVC*HC:99213*10.00*1O.00")
    text = text.replace(f"CLP*{long_id}*1*", f"CLP*{long_id}*123*")
    first = p.receive("era/np.835", text)
    [era_id] = first.era_ids
    group = "Input should be 'CO', 'OA', 'PI', 'PR' or 'CR'"
    many_problems = [
        f"claim payment (CLP) at segment 13 cannot be posted: claim-level CAS adjustment {n}: CAS01 group code: {group}"
        for n in range(1, 22)
    ]
    assert [x for x in first.problems if "cannot be posted" in x] == [
        "claim payment (CLP) at segment 10 cannot be posted: 1 amount(s) in it are not X12 numbers",
        "claim payment (CLP) at segment 12 cannot be posted: CLP01 patient control number: "
        "String should have at most 38 characters",
        *many_problems,
    ]
    release_era(p.repo, p.releases, era_id, "biller")
    released = p.receive("era/np.835", text, released=True, upload=False)
    assert released.claims_queued == 0

    results = [{k: v for k, v in r.items() if k != "recorded_at"} for r in p.repo.era_results(era_id)]
    assert results == [
        {
            "position": 10,
            "clp01": "L" * 38,  # shown cut to CLP01's maximum
            "status_code": "12",
            "charge": "10.00",
            "paid": "10.00",
            "payer_claim_number": "P" * 50,
            "problems": ["claim payment (CLP) at segment 10 cannot be posted: 1 amount(s) in it are not X12 numbers"],
            "result": "not_posted",
            "claim_id": "",
        },
        {
            "position": 12,
            "clp01": "",  # the CLP01 is what fails: not shown
            "status_code": "1",
            "charge": "10.00",
            "paid": "10.00",
            "payer_claim_number": "PB",
            "problems": [
                "claim payment (CLP) at segment 12 cannot be posted: CLP01 patient control number: "
                "String should have at most 38 characters"
            ],
            "result": "not_posted",
            "claim_id": "",
        },
        {
            "position": 13,
            "clp01": "MANY01",
            "status_code": "1",
            "charge": "21.00",
            "paid": "0.00",
            "payer_claim_number": "PC",
            "problems": [
                f"claim payment (CLP) at segment 13 cannot be posted: claim-level CAS adjustment {n}: "
                f"CAS01 group code: {group}"
                for n in range(1, 21)
            ]
            + ["... and 1 more problems: see the ERA's file report"],
            "result": "not_posted",
            "claim_id": "",
        },
    ]
    assert [r["recorded_at"] for r in p.repo.era_results(era_id)] == [AT] * 3


# --- a big file: checkpoints and continuations ------------------------------------------------------
BIG = "era/big.835"


def _big(p: Posting, n: int, trace: str) -> None:
    claims = [make_claim(p.repo, f"{trace}{i:02d}", dos=DOS, lines=LINES) for i in range(n)]
    p.artifacts.write(BIG, era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace=trace).encode())


def test_a_continuation_whose_first_report_is_gone_writes_a_fresh_one(
    p: Posting, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(era_fanout, "CHUNK_CLAIMS", 3)
    _big(p, 7, "CNT")
    first = receive_era_file(p.repo, p.artifacts, p.queue, BIG, out_of_time=_clock(1))
    [era_id] = first.era_ids
    assert (first.claims_queued, first.continues) == (6, True)
    p.artifacts.delete(f"era-reports/{BIG}.json")
    later = clock.tick()

    rest = continue_era_file(p.repo, p.artifacts, p.queue, BIG, first.file_id, out_of_time=era_fanout.never)

    assert rest == EraFileSummary(
        source_key=BIG,
        report_key=f"era-reports/{BIG}.json",
        file_id=first.file_id,
        claims_queued=1,
        era_ids=[era_id],
    )
    fresh = {"source_key": BIG, "file_id": first.file_id, "claims_queued": 1, "continues": False, "continued_at": later}
    assert _report(p, BIG) == fresh
    clock.tick()
    # Again (the continue message redelivered): nothing left, and the report stays as it is.
    again = continue_era_file(p.repo, p.artifacts, p.queue, BIG, first.file_id, out_of_time=era_fanout.never)
    assert (again.era_ids, again.claims_queued, again.continues) == ([], 0, False)
    assert _report(p, BIG) == fresh


def test_a_continuation_adds_to_the_first_report(p: Posting, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(era_fanout, "CHUNK_CLAIMS", 3)
    _big(p, 7, "CNU")
    first = receive_era_file(p.repo, p.artifacts, p.queue, BIG, out_of_time=_clock(1))
    report = _report(p, BIG)
    later = clock.tick()
    continue_era_file(p.repo, p.artifacts, p.queue, BIG, first.file_id, out_of_time=era_fanout.never)
    assert _report(p, BIG) == {**report, "claims_queued": 7, "continues": False, "continued_at": later}


def test_a_fan_out_with_no_checkpoint_on_its_record_starts_from_the_first_chunk(
    p: Posting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file fanned out whole in memory (its record has no checkpoint) delivered again once files of its
    size are staged in chunks: every claim payment is queued again (posting is idempotent)."""
    _big(p, 7, "CKP")
    whole = receive_era_file(p.repo, p.artifacts, p.queue, BIG)
    assert whole.claims_queued == 7 and "fanout_done" not in _record(p, whole.era_ids[0])
    assert {r.result for r in p.post_queued()} == {"posted"}
    monkeypatch.setattr(era_fanout, "CHUNK_CLAIMS", 3)
    again = receive_era_file(p.repo, p.artifacts, p.queue, BIG)
    assert (again.claims_queued, again.continues) == (7, False)
    assert [r.result for r in p.post_queued()] == ["already_posted"] * 7


# --- files that read, but not as expected -----------------------------------------------------------
def test_a_clean_file_with_a_byte_order_mark_and_a_payee_without_npi_posts(p: Posting) -> None:
    claim = make_claim(p.repo, "BOM01", dos=DOS, lines=LINES)
    text = era_for([(claim, "paid")], payer_id="PAYERA01", trace="BOM1")
    text = text.replace("N1*PE*TEST CLINIC*XX*1234567893", "N1*PE*TEST CLINIC*FI*123456789")  # a TIN, no NPI
    p.artifacts.write("era/bom.835", "\ufeff".encode() + text.encode())
    summary = receive_era_file(p.repo, p.artifacts, p.queue, "era/bom.835")
    assert (summary.file_error, summary.claims_queued, summary.era_ids) == (None, 1, ["1PAYERA010-BOM1"])
    expected = _header("1PAYERA010-BOM1", summary.file_id, "era/bom.835", trace_number="BOM1", total_paid="120.00") | {
        "era_status": "POSTING",
        "problems": [],
    }
    del expected["payee_npi"]  # none: not stored
    assert _record(p, "1PAYERA010-BOM1") == expected
    assert _report(p, "era/bom.835") == {
        "source_key": "era/bom.835",
        "file_id": summary.file_id,
        "processed_at": AT,
        "payments": [
            {
                "era_id": "1PAYERA010-BOM1",
                "era_status": "POSTING",
                "total_paid": "120.00",
                "claims": 1,
                "balanced": True,
            }
        ],
        "problems": [],
        "problem_count": 0,
        "status": "POSTING",
        "claims_queued": 1,
        "continues": False,
    }


def test_an_envelope_with_no_835_in_it_is_unreadable(p: Posting) -> None:
    head = era_for([], payer_id="PAYERA01", trace="NOST").split("~ST*835")[0]
    summary = p.receive("era/nost.835", head + "~GE*0*1~IEA*1*000000001~")
    assert (summary.file_error, summary.quarantined) == ("the file holds no 835 transaction (no ST*835)", True)
    assert _record(p, summary.era_ids[0])["problems"] == ["the file holds no 835 transaction (no ST*835)"]


def test_a_copy_of_a_quarantined_file_reports_the_first_key_and_the_same_key_again_does_not(
    p: Posting, clock: Clock
) -> None:
    text = _unbalanced(p)
    first = p.receive("era/chg.835", text)
    later = clock.tick()
    copy = p.receive("era/chg-copy.835", text)
    assert (copy.duplicate_of, copy.era_ids, copy.quarantined) == ("era/chg.835", ["1PAYERA010-CHG1"], True)
    payments = [
        {
            "era_id": "1PAYERA010-CHG1",
            "era_status": "QUARANTINED",
            "total_paid": "119.00",
            "claims": 1,
            "balanced": False,
        }
    ]
    release = "POST /eras/{era_id}/release posts this file once a person has checked it"
    assert _report(p, "era/chg-copy.835") == {
        "source_key": "era/chg-copy.835",
        "file_id": first.file_id,
        "processed_at": later,
        "payments": payments,
        "problems": [UNBALANCED],
        "problem_count": 1,
        "duplicate_of": "era/chg.835",
        "status": "QUARANTINED",
        "release": release,
    }
    assert _record(p, "1PAYERA010-CHG1") == _header(
        "1PAYERA010-CHG1",
        first.file_id,
        "era/chg.835",
        era_status="QUARANTINED",
        problems=[UNBALANCED],
        duplicate_keys={"era/chg-copy.835"},
        updated_at=later,
    )
    again = p.receive("era/chg.835", text)
    assert again.duplicate_of is None
    assert "duplicate_of" not in _report(p, "era/chg.835")
    assert _record(p, "1PAYERA010-CHG1")["duplicate_keys"] == {"era/chg-copy.835"}


def test_a_released_file_delivered_again_posts_nothing_and_reports_the_record_status(p: Posting) -> None:
    text = _unbalanced(p)
    first = p.receive("era/chg.835", text)
    release_era(p.repo, p.releases, "1PAYERA010-CHG1", "biller")
    receive_era_file(p.repo, p.artifacts, p.queue, "era/chg.835", released=True, released_file_id=first.file_id)
    assert len(p.post_queued()) == 1
    again = p.receive("era/chg.835", text, upload=False)  # the S3 notification again, not a release
    assert (again.claims_queued, again.quarantined, again.duplicate_of) == (0, False, None)
    report = _report(p, "era/chg.835")
    assert report["status"] == "POSTING" and "claims_queued" not in report
    assert report["payments"][0]["era_status"] == "POSTING"
    assert p.queue.messages == []


def test_a_quarantined_big_file_records_where_its_fan_out_will_start(
    p: Posting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(era_fanout, "CHUNK_CLAIMS", 3)
    claims = [make_claim(p.repo, f"QBIG{i:02d}", dos=DOS, lines=LINES) for i in range(7)]
    text = era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace="CHG1")
    summary = p.receive(BIG, text.replace("BPR*I*840.00*", "BPR*I*839.00*"))
    problem = (
        "BPR at segment 4 (trace CHG1): total paid 839.00 but claims paid 840.00 - provider adjustments 0.00 = 840.00"
    )
    assert _record(p, "1PAYERA010-CHG1") == _header(
        "1PAYERA010-CHG1",
        summary.file_id,
        BIG,
        total_paid="839.00",
        claim_count=7,
        era_status="QUARANTINED",
        problems=[problem],
        payment_index=0,
        payment_key="1PAYERA010-CHG1",
        fanout_chunks=3,
        fanout_done=0,
    )
    assert p.queue.messages == []


def test_an_era_record_keeps_its_first_hundred_problems_and_counts_the_rest(p: Posting) -> None:
    short = [ClaimPayment(f"BAD{n:03d}", "1", D("10.00"), D("9.00"), D("0"), "CI", f"P{n}") for n in range(101)]
    summary = p.receive("era/short.835", era_text(short, [], "SHORT1"))
    assert len(summary.problems) == 101
    kept = _record(p, summary.era_ids[0])["problems"]
    assert kept == [*summary.problems[:100], "... and 1 more problems: see the file's report"]


# --- two deliveries racing for one payment's record -------------------------------------------------
class RacingStore(fakes.FakeStore):
    """The fake store, with another delivery that creates a record just before this one does (`rival`,
    keyed by ERA id), or with records that can never be created (`taken`: another delivery keeps
    making and dropping them)."""

    def __init__(self) -> None:
        super().__init__()
        self.rivals: dict[str, Any] = {}
        self.taken: set[str] = set()
        self.creates: list[str] = []

    def create_era(self, era_id: str, record: dict[str, Any]) -> bool:
        self.creates.append(era_id)
        rival = self.rivals.pop(era_id, None)
        if rival is not None:
            rival()
        if era_id in self.taken:
            return False
        return super().create_era(era_id, record)


@pytest.fixture
def racing() -> Posting:
    return Posting(RacingStore())


def _two_payments(p: Posting) -> list[Payment]:
    """Payments R1 and R2 of two claims each (the claims made in `p`)."""
    return [
        _fanout_payment([make_claim(p.repo, f"{trace}C{i}", dos=DOS, lines=LINES) for i in range(2)], trace)
        for trace in ("R1", "R2")
    ]


def _835(payments: list[Payment]) -> bytes:
    created = datetime(2026, 11, 25, 9, 30)
    return write_835(
        payments, sender_id="PAYERA01", receiver_id="MEDBILL", interchange_control_number=7, created=created
    ).encode()


def test_a_payment_another_file_takes_first_mid_delivery_makes_the_whole_file_a_quarantined_copy(
    racing: Posting, clock: Clock
) -> None:
    p = racing
    payments = _two_payments(p)
    p.artifacts.write("era/a.835", _835(payments))
    p.artifacts.write("era/b.835", _835(payments[1:]))  # payment R2 in another file
    store = p.repo
    assert isinstance(store, RacingStore)
    updated = ""

    def rival() -> None:
        nonlocal updated
        updated = clock.tick()
        receive_era_file(p.repo, p.artifacts, p.queue, "era/b.835")

    store.rivals["1PAYERA010-R2"] = rival

    summary = receive_era_file(p.repo, p.artifacts, p.queue, "era/a.835")

    copy_id = f"1PAYERA010-R2~{summary.file_id}"
    conflict = f"payment 1PAYERA010-R2 was already received in another file (era/b.835); this file's copy is {copy_id}"
    assert (summary.era_ids, summary.problems, summary.quarantined) == (
        ["1PAYERA010-R1", copy_id],
        [conflict],
        True,
    )
    assert store.creates == ["1PAYERA010-R1", "1PAYERA010-R2", "1PAYERA010-R2", copy_id]
    one = _record(p, "1PAYERA010-R1")  # made by this delivery, then rewritten with the file's new problem
    assert (one["era_status"], one["problems"], one["received_at"], one["updated_at"]) == (
        "QUARANTINED",
        [conflict],
        AT,
        updated,
    )
    copy = _record(p, copy_id)
    assert (copy["era_status"], copy["problems"], copy["source_key"]) == ("QUARANTINED", [conflict], "era/a.835")
    assert _record(p, "1PAYERA010-R2")["source_key"] == "era/b.835"
    assert [m.era_id for m in p.queue.take()] == ["1PAYERA010-R2"] * 2  # the rival's payment only
    assert [(x["era_id"], x["era_status"]) for x in _report(p, "era/a.835")["payments"]] == [
        ("1PAYERA010-R1", "QUARANTINED"),
        (copy_id, "QUARANTINED"),
    ]


def test_a_delivery_whose_later_payment_the_same_file_took_first_still_fans_out_its_own(racing: Posting) -> None:
    p = racing
    text = _835(_two_payments(p))
    p.artifacts.write("era/a.835", text)
    p.artifacts.write("era/a-again.835", text)
    store = p.repo
    assert isinstance(store, RacingStore)
    store.rivals["1PAYERA010-R2"] = lambda: receive_era_file(p.repo, p.artifacts, p.queue, "era/a-again.835")

    summary = receive_era_file(p.repo, p.artifacts, p.queue, "era/a.835")

    assert store.creates == ["1PAYERA010-R1", "1PAYERA010-R2", "1PAYERA010-R2"]  # the rival's, then this one's
    assert (summary.era_ids, summary.problems, summary.quarantined) == (["1PAYERA010-R1", "1PAYERA010-R2"], [], False)
    assert (summary.duplicate_of, summary.claims_queued) == ("era/a-again.835", 4)  # R1 rewritten, then fanned out
    assert [(x["era_id"], x["era_status"]) for x in _report(p, "era/a.835")["payments"]] == [
        ("1PAYERA010-R1", "POSTING"),
        ("1PAYERA010-R2", "POSTING"),
    ]
    assert [m.claim_id for m in p.queue.messages] == ["R1C0", "R1C1", "R2C0", "R2C1"] * 2  # the rival's and this one's


def test_the_same_file_under_another_key_taking_a_record_first_is_a_copy(racing: Posting) -> None:
    p = racing
    text = _835(_two_payments(p))
    p.artifacts.write("era/a.835", text)
    p.artifacts.write("era/a-again.835", text)
    store = p.repo
    assert isinstance(store, RacingStore)
    store.rivals["1PAYERA010-R1"] = lambda: receive_era_file(p.repo, p.artifacts, p.queue, "era/a-again.835")

    summary = receive_era_file(p.repo, p.artifacts, p.queue, "era/a.835")

    assert (summary.era_ids, summary.problems, summary.quarantined) == (["1PAYERA010-R1", "1PAYERA010-R2"], [], False)
    assert summary.duplicate_of == "era/a-again.835"
    assert _record(p, "1PAYERA010-R1")["duplicate_keys"] == {"era/a.835"}
    assert _record(p, "1PAYERA010-R2")["source_key"] == "era/a-again.835"
    assert summary.claims_queued == 4  # fanned out again: posting is idempotent


def test_a_delivery_that_never_gets_its_records_made_gives_up_after_five_tries(racing: Posting) -> None:
    p = racing
    p.artifacts.write("era/a.835", _835(_two_payments(p)))
    store = p.repo
    assert isinstance(store, RacingStore)
    store.taken.add("1PAYERA010-R2")
    with pytest.raises(EraRecordConflict, match=r"^ERA records of era/a.835 kept changing under this delivery$"):
        receive_era_file(p.repo, p.artifacts, p.queue, "era/a.835")
    assert store.creates == ["1PAYERA010-R1", "1PAYERA010-R2"] + ["1PAYERA010-R2"] * 4
    assert p.queue.messages == []


def test_the_summary_counts_the_provider_adjustments_of_every_payment(p: Posting) -> None:
    def plb(reason: str, amount: str) -> ProviderAdjustment:
        return ProviderAdjustment("1234567893", "20261231", reason, D(amount), "NOSUCHREF")

    one, two = ([make_claim(p.repo, f"{trace}C0", dos=DOS, lines=LINES)] for trace in ("P1", "P2"))
    payments = [
        _fanout_payment(one, "P1", [plb("WO", "1.00"), plb("L6", "-2.00")]),
        _fanout_payment(two, "P2", [plb("FB", "3.00")]),
    ]
    p.artifacts.write("era/plb.835", _835(payments))
    summary = receive_era_file(p.repo, p.artifacts, p.queue, "era/plb.835")
    assert (summary.quarantined, summary.claims_queued, summary.provider_adjustments) == (False, 2, 3)
    assert [len(p.repo.provider_adjustments(e)) for e in summary.era_ids] == [2, 1]


def test_a_claim_payment_repeated_in_a_payment_is_its_second_occurrence(p: Posting) -> None:
    first, other = (make_claim(p.repo, claim_id, dos=DOS, lines=LINES) for claim_id in ("OCC01", "OCC02"))
    again = claim_payment(first, "paid")
    text = era_text([claim_payment(first, "paid"), claim_payment(other, "paid"), again], [], "OCC1")
    summary = p.receive("era/occ.835", text)
    assert (summary.quarantined, summary.claims_queued) == (False, 3)
    assert [(m.claim_id, m.occurrence) for m in p.queue.messages] == [("OCC01", 1), ("OCC02", 1), ("OCC01", 2)]


def test_the_header_problems_of_every_payment_are_the_files(p: Posting) -> None:
    one, two = ([make_claim(p.repo, f"{trace}C0", dos=DOS, lines=LINES)] for trace in ("H1", "H2"))
    first, second = _fanout_payment(one, "H1"), _fanout_payment(two, "H2")
    first.payer.name = "N" * 61
    second.trace_number = "T" * 51
    p.artifacts.write("era/h.835", _835([first, second]))
    summary = receive_era_file(p.repo, p.artifacts, p.queue, "era/h.835")
    assert summary.problems == [
        "payment at transaction 0001: N102 payer name is 61 characters long; X12 allows at most 60 (stored cut to 60)",
        "payment at transaction 0002: TRN02 trace number is 51 characters long; X12 allows at most 50 "
        "(stored cut to 50)",
    ]
    assert summary.quarantined and p.queue.messages == []


def test_a_claim_payment_too_big_to_post_is_named_by_its_segment_and_size(p: Posting) -> None:
    summary = p.receive("era/huge.835", era_text([_huge_claim()], [], "HUGE1"))
    assert summary.problems == [
        "claim payment (CLP) at segment 10 cannot be posted: it is 249 KB as a posting message; at most 64 KB"
    ]
