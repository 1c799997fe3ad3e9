"""Hypothesis fuzzing of the two files the outside world sends us (issue 12, item 5): encounter files
(intake) and 835s (ERA ingestion), on the in-memory fakes. Each run prints how many examples it
tried (MEDBILL_FUZZ_EXAMPLES, 100 in the normal suite; `make reliability` runs more).

Encounter files: sample records with fields deleted, replaced by other types or random text, the
JSON text cut or corrupted. Whatever arrives: intake never raises, every file gets its report, every
record is a claim or a report line (never both), and no patient name or member id reaches the report.

835s: a balanced file the payer simulator's builder wrote, with segments dropped or repeated, an
amount moved by a cent, an element replaced, the text cut or corrupted. Whatever arrives: ingestion
never raises, every file gets its report, and a file it queues for posting balances (the 835 reader
finds no problem in it) while anything else is quarantined with nothing queued.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import config
from medbill.billing.era_ingestion import receive_era_file
from medbill.billing.era_records import QUARANTINED
from medbill.workflow.intake import ingest_encounter_file, new_claim, report_key_for
from medbill.x12.remittance835.reader import RemittanceReader
from testkit.era_builder import era_for
from tests.factories import make_encounter
from tests.fakes import CollectingQueue, FakeArtifacts, FakeStore, FakeWorkflow

EXAMPLES = int(os.environ.get("MEDBILL_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("MEDBILL_FUZZ_RANDOM") is None,  # the same examples every run unless asked
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
SAMPLES: list[dict[str, Any]] = json.loads(
    (config.REPO_ROOT / "events/encounters/northside-2026-11-20.json").read_text()
)
CANARY_NAME, CANARY_MEMBER = "Qzcanaryname", "QZCANARY99"
KEY = "encounters/clinic-northside/fuzz.json"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], new: Any, delete: bool) -> None:
    for step in path[:-1]:
        doc = doc[step]
    if delete and isinstance(doc, dict):
        doc.pop(path[-1], None)
    else:
        doc[path[-1]] = new


@st.composite
def encounter_files(draw: st.DrawFn) -> bytes:
    records = []
    for n in range(draw(st.integers(1, 6))):
        record = json.loads(json.dumps(draw(st.sampled_from(SAMPLES))))
        record["encounter_id"] = f"FZ-{n}"
        record["patient"]["last_name"] = CANARY_NAME
        record["coverage"]["member_id"] = CANARY_MEMBER
        for _ in range(draw(st.integers(0, 3))):
            path = draw(st.sampled_from(_paths(record)))
            _set(record, path, draw(values), delete=draw(st.booleans()))
        records.append(record)
    text = json.dumps(records).encode()
    cut = draw(st.sampled_from(["none", "none", "truncate", "bytes"]))
    if cut == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif cut == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=8)) + text[at:]
    return text


def test_fuzzed_encounter_files_lose_no_record(capsys: pytest.CaptureFixture[str]) -> None:
    tried = {"examples": 0, "file_errors": 0, "claims": 0, "rejected": 0}

    @FUZZ
    @given(body=encounter_files())
    def run(body: bytes) -> None:
        store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
        files.write(KEY, body)
        summary = ingest_encounter_file(store, files, workflow, KEY)
        report_text = files.read(report_key_for(KEY)).decode()
        report = json.loads(report_text)
        assert CANARY_NAME not in report_text and CANARY_MEMBER not in report_text
        claimed = {c.record_number for c in store.list_claims(limit=100).items}
        rejected = {r["record_number"] for r in report["rejections"]}
        tried["examples"] += 1
        if report["file_error"]:
            # A file that breaks off part-way keeps the records read before the break (decision 28):
            # they end as claims or report lines like any file's; the error names where reading stopped.
            tried["file_errors"] += 1
        assert summary.claims_created == len(claimed)
        assert claimed.isdisjoint(rejected)
        assert claimed | rejected == set(range(1, report["counts"]["records"] + 1))
        assert sorted(workflow.started) == sorted(c.claim_id for c in store.list_claims(limit=100).items)
        tried["claims"] += len(claimed)
        tried["rejected"] += len(rejected)

    run()
    with capsys.disabled():
        print(f"\nfuzz (encounter files): {json.dumps(tried)}")
    assert tried["examples"] >= min(EXAMPLES, 50)


def _balanced_835() -> str:
    claims = []
    for n, outcome in enumerate(["paid", "short_paid", "denied", "paid"]):
        claim = new_claim(make_encounter(encounter_id=f"ERA-{n}", clinic_id="clinic-northside"), "encounters/e", n + 1)
        lines = [line.model_copy(update={"charge": Decimal("120.00")}) for line in claim.lines]
        total = sum((line.charge for line in lines), Decimal("0.00"))
        claims.append((claim.model_copy(update={"lines": lines, "total_charge": total}), outcome))
    return era_for(claims, payer_id="PAYERA01", trace="FUZZ0001")


BASE_835 = _balanced_835()


@st.composite
def era_files(draw: st.DrawFn) -> bytes:
    segments = [s for s in BASE_835.split("~") if s.strip()]
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(segments) - 1))
        what = draw(st.sampled_from(["drop", "repeat", "cent", "element", "none"]))
        if what == "drop":
            segments.pop(at)
        elif what == "repeat":
            segments.insert(at, segments[at])
        elif what in ("cent", "element"):
            parts = segments[at].split("*")
            i = draw(st.integers(0, len(parts) - 1))
            if what == "cent":
                try:
                    parts[i] = f"{Decimal(parts[i]) + Decimal('0.01'):.2f}"
                except ArithmeticError:
                    parts[i] = parts[i] + "1"
            else:
                parts[i] = draw(st.text(max_size=12))
            segments[at] = "*".join(parts)
        if not segments:
            break
    text = ("~".join(segments) + "~").encode("utf-8", "surrogatepass")
    cut = draw(st.sampled_from(["none", "none", "truncate", "bytes"]))
    if cut == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif cut == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=8)) + text[at:]
    return text


def _reads_clean(body: bytes) -> bool:
    """The 835 reader on its own (not through ingestion): balanced, envelopes whole, no problem."""
    try:
        reader = RemittanceReader(body.decode("utf-8"))
        payments = list(reader.payments())
    except Exception:
        return False
    return bool(payments) and not reader.problems and all(not p.problems for p in payments)


def test_fuzzed_835s_post_only_what_balances(capsys: pytest.CaptureFixture[str]) -> None:
    tried = {"examples": 0, "quarantined": 0, "queued_files": 0, "claim_messages": 0}

    @FUZZ
    @given(body=era_files())
    def run(body: bytes) -> None:
        store, files, queue = FakeStore(), FakeArtifacts(), CollectingQueue()
        files.write("era/fuzz.835", body)
        summary = receive_era_file(store, files, queue, "era/fuzz.835")
        report = json.loads(files.read(summary.report_key))
        tried["examples"] += 1
        if summary.quarantined or report.get("status") == QUARANTINED:
            tried["quarantined"] += 1
            assert queue.messages == []
            return
        assert _reads_clean(body)
        assert len(queue.messages) == summary.claims_queued
        tried["queued_files"] += 1
        tried["claim_messages"] += len(queue.messages)

    run()
    with capsys.disabled():
        print(f"\nfuzz (835 files): {json.dumps(tried)}")
    assert tried["examples"] >= min(EXAMPLES, 50)
    assert tried["quarantined"] and tried["queued_files"]  # both ways were taken


def test_the_unmutated_835_posts_every_claim() -> None:
    store, files, queue = FakeStore(), FakeArtifacts(), CollectingQueue()
    files.write("era/base.835", BASE_835)
    summary = receive_era_file(store, files, queue, "era/base.835")
    assert (summary.quarantined, summary.claims_queued, len(queue.messages)) == (False, 4, 4)
