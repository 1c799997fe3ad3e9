"""An 835 that is not UTF-8 (issue 12): on main it was quarantined as unreadable and could never be
released. Now it is quarantined saying where it stops being UTF-8 (an offset and a segment, never
the bytes), and a person who confirms the encoding releases it: the file is then checked in that
encoding as on a first delivery, and any later release of its payments reads it the same way."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from medbill.billing.era import EraNotReleasable, receive_era_file, reconciliation, release_era
from testkit.era_builder import era_for
from tests.posting_harness import Posting, make_claim

DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]
KEY = "era/latin1.835"


def _latin1(p: Posting, *, unbalanced: bool = False, encoding: str = "latin-1") -> bytes:
    claim = make_claim(p.repo, "LAT01", dos=DOS, lines=LINES)
    text = era_for([(claim, "paid")], payer_id="PAYERA01", trace="LAT1").replace("TEST PAYER", "CAFÉ SANTÉ")
    if unbalanced:
        text = text.replace("CLP*LAT01*1*150.00*120.00", "CLP*LAT01*1*150.00*125.00")
        assert "CLP*LAT01*1*150.00*125.00" in text
    return text.encode(encoding)


def _file_record(p: Posting) -> dict:
    [era_id] = receive_era_file(p.repo, p.artifacts, p.queue, KEY).era_ids
    header = p.repo.get_era(era_id)
    assert header is not None
    return header


def test_a_latin1_file_is_quarantined_with_where_it_stops_being_utf8_and_no_bytes(p: Posting) -> None:
    body = _latin1(p)
    p.artifacts.write(KEY, body)
    header = _file_record(p)
    offset = body.index("É".encode("latin-1"))
    segment = body[:offset].count(b"~") + 1
    assert header["era_id"].startswith("FILE-") and header["era_status"] == "QUARANTINED"
    assert header["unreadable"] and header["encoding_unknown"]
    assert header["problems"] == [
        f"the file is not UTF-8 text (the first byte that is not is at offset {offset}, in segment {segment}); "
        "if it is latin-1 or windows-1252, a person can release it with that encoding"
    ]
    assert "CAF" not in json.dumps(header)
    with pytest.raises(EraNotReleasable, match=r"is not UTF-8: release it with the encoding a person confirmed"):
        release_era(p.repo, p.releases, header["era_id"], "staff:test")
    with pytest.raises(EraNotReleasable, match="encoding must be one of latin-1, windows-1252"):
        release_era(p.repo, p.releases, header["era_id"], "staff:test", encoding="utf-16")
    assert p.releases.requests == []


def test_released_with_the_confirmed_encoding_it_is_checked_and_posts_to_the_cent(p: Posting) -> None:
    p.artifacts.write(KEY, _latin1(p))
    header = _file_record(p)
    out = release_era(p.repo, p.releases, header["era_id"], "staff:test", encoding="latin-1")
    assert out["era_status"] == "RELEASED" and out["encoding"] == "latin-1"
    [request] = p.releases.requests
    assert (request["encoding"], request["recheck"], request["file_id"]) == ("latin-1", True, header["file_id"])
    # What the remittance handler does with that request.
    summary = receive_era_file(
        p.repo, p.artifacts, p.queue, KEY, released=False, released_file_id=request["file_id"], encoding="latin-1"
    )
    [era_id] = summary.era_ids
    assert not summary.quarantined and summary.claims_queued == 1
    payment = p.repo.get_era(era_id)
    assert payment is not None
    assert (payment["payer_name"], payment["encoding"], payment["era_status"]) == ("CAFÉ SANTÉ", "latin-1", "POSTING")
    [result] = p.post_queued()
    assert result.result == "posted"
    rec = reconciliation(p.repo, era_id)
    assert rec is not None and (rec["posted_total"], rec["difference"], rec["reconciled"]) == ("120.00", "0.00", True)
    assert p.ledger("LAT01")[0].paid == Decimal("120.00")


def test_a_latin1_payment_that_does_not_balance_is_released_again_in_latin1(p: Posting) -> None:
    p.artifacts.write(KEY, _latin1(p, unbalanced=True))
    header = _file_record(p)
    release_era(p.repo, p.releases, header["era_id"], "staff:test", encoding="latin-1")
    checked = receive_era_file(
        p.repo, p.artifacts, p.queue, KEY, released_file_id=header["file_id"], encoding="latin-1"
    )
    [era_id] = checked.era_ids
    assert checked.quarantined and checked.claims_queued == 0
    with pytest.raises(EraNotReleasable, match=r"was read as latin-1: there is no other encoding to confirm"):
        release_era(p.repo, p.releases, era_id, "staff:test", encoding="windows-1252")
    release_era(p.repo, p.releases, era_id, "staff:test")
    request = p.releases.requests[-1]
    assert (request["encoding"], request["recheck"]) == ("latin-1", False)
    posted = receive_era_file(
        p.repo, p.artifacts, p.queue, KEY, released=True, released_file_id=request["file_id"], encoding="latin-1"
    )
    assert posted.claims_queued == 1


def test_a_file_that_is_not_the_confirmed_encoding_either_goes_back_to_the_person(p: Posting) -> None:
    body = _latin1(p).replace("É".encode("latin-1"), b"\x81")  # undefined in windows-1252
    p.artifacts.write(KEY, body)
    header = _file_record(p)
    release_era(p.repo, p.releases, header["era_id"], "staff:test", encoding="windows-1252")
    again = receive_era_file(
        p.repo, p.artifacts, p.queue, KEY, released_file_id=header["file_id"], encoding="windows-1252"
    )
    assert again.quarantined and again.era_ids == [header["era_id"]]
    now = p.repo.get_era(header["era_id"])
    assert now is not None and now["era_status"] == "QUARANTINED"
    assert now["problems"][-1].startswith("the file is not windows-1252 text either (byte offset ")
    # Still a person's to decide: Latin-1 reads every byte.
    release_era(p.repo, p.releases, header["era_id"], "staff:test", encoding="latin-1")
