"""Hypothesis on the HL7 reader: arbitrary bytes and mangled DFTs never crash it; every message ends as an
encounter or as rejections naming a segment and field; no PHI ever reaches the report or the ACKs."""

from __future__ import annotations

import json
import re

import hl7
from ehr_builders import CANARIES, NOW, dft, profile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medbill.intake import intake_report, read_hl7_file
from medbill.intake.hl7v2.reader import Hl7IntakeResult

# "PID-7", "FT1(2)-25.1", "MSH", "IN1" and profile-filled fields "IN1-3 (via the clinic profile)".
LOCATION = re.compile(r"^[A-Z][A-Z0-9]{2}(\(\d+\))?(-\d+(\.\d+)?)?( \(via the clinic profile\))?$")
PROFILE = profile()
KEY = "encounters/clinic-northside/fuzz.hl7"


def check(result: Hl7IntakeResult) -> None:
    if result.file_error is not None:
        assert result.encounters == [] and result.messages == []
        return
    accepted = {a.record_number for a in result.encounters}
    rejected = set(result.rejected_records)
    assert not accepted & rejected
    assert accepted | rejected == set(range(1, result.records + 1))
    assert [m.message_number for m in result.messages] == list(range(1, result.records + 1))
    for m in result.messages:
        assert (m.ack_code == "AA") == (m.message_number in accepted)
        assert str(hl7.parse(m.ack).segment("MSA")(1)) == m.ack_code  # every ACK is readable HL7
    for r in result.rejections:
        assert LOCATION.fullmatch(r.field), r.field
        assert r.reason.startswith(r.field), (r.field, r.reason)
    text = json.dumps(intake_report(KEY, result)).lower()
    for canary in CANARIES:
        assert canary.lower() not in text, canary


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes(body: bytes) -> None:
    check(read_hl7_file(KEY, body, PROFILE, now=NOW))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="MSHPIDFT1|^~\\&\r\n0123456789 .-", max_size=300))
def test_hl7_shaped_text(text: str) -> None:
    check(read_hl7_file(KEY, ("MSH|^~\\&|" + text).encode(), PROFILE, now=NOW))


_DELIMS = st.sampled_from(["|", "^", "~", "\\", "&", "\r", "\n", "", "X", "9", " ", "\x00"])
_edit = st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(0, 3), _DELIMS)


def _mangle(text: str, edits: list[tuple[int, int, str]], drop: list[int]) -> str:
    segments = [s for n, s in enumerate(text.split("\r")) if n not in drop or n == 0]
    out = "\r".join(segments)
    for position, width, insert in edits:
        p = position % (len(out) + 1)
        out = out[:p] + insert + out[p + width :]
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_edit, max_size=4),
    st.lists(st.integers(0, 10), max_size=3),
    st.integers(1, 3),
)
def test_mangled_dfts(edits: list[tuple[int, int, str]], drop: list[int], copies: int) -> None:
    text = "".join(_mangle(dft({("PV1", 1): {19: f"V{n}"}}), edits, drop) + "\r" for n in range(copies))
    check(read_hl7_file(KEY, text.encode(), PROFILE, now=NOW))
