"""The clearinghouse exchange use case on in-memory fakes: send once, fetch once, never a partial
file, archive only after the copy, classification by content, quarantine with a report."""

from __future__ import annotations

import json

import pytest

from medbill.workflow.clearinghouse import ClearinghouseExchange, classify
from tests.clearinghouse_fakes import FakeArtifacts, FakeClearinghouse, FakeLedger, FakeOutbox

VERSIONS = {"999": "005010X231A1", "835": "005010X221A1", "271": "005010X279A1"}


def interchange(*sets: tuple[str, str], control: int = 1) -> str:
    """A small interchange: one GS/ST per (ST01, version)."""
    isa = (
        f"ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*MEDBILL        *261207*0100*^*00501*"
        f"{control:09d}*0*T*:~"
    )
    body = []
    for n, (st01, version) in enumerate(sets, start=1):
        body += [
            f"GS*XX*CLEARINGHOUSE*MEDBILL*20261207*0100*{n}*X*{version}~",
            f"ST*{st01}*0001*{version}~",
            "BHT*0085*08*1*20261207*0100~",
            "SE*3*0001~",
            f"GE*1*{n}~",
        ]
    return isa + "".join(body) + f"IEA*{len(sets)}*{control:09d}~"


def x12(st01: str, version: str | None = None) -> str:
    return interchange((st01, version or VERSIONS.get(st01, "005010X214")))


def make(settle: float = 0.0) -> tuple[ClearinghouseExchange, FakeClearinghouse, FakeArtifacts, FakeLedger]:
    ch, artifacts, ledger = FakeClearinghouse(), FakeArtifacts(), FakeLedger()
    pauses: list[float] = []
    exchange = ClearinghouseExchange(
        ch, artifacts, FakeOutbox(artifacts), ledger, settle_seconds=settle, pause=pauses.append
    )
    return exchange, ch, artifacts, ledger


# --- classification ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (x12("999"), "999"),
        (x12("277", "005010X214"), "277ca"),
        (x12("277", "005010X212"), "277"),
        (x12("835"), "835"),
        (x12("271"), "271"),
        ("\ufeff\r\n" + x12("835"), "835"),  # a BOM and a blank line before ISA
    ],
)
def test_classified_by_content(text: str, kind: str) -> None:
    assert classify(text.encode()).kind == kind


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe\x00garbage", "not text"),
        (b"hello, this is not X12", "no ISA header"),
        (b"ISA*00*short~", "not readable X12"),
        (interchange(("999", VERSIONS["999"]), ("835", VERSIONS["835"])).encode(), "mixed transaction sets"),
        (x12("837", "005010X222A1").encode(), "transaction set 837 is not one we fetch"),
        (x12("277", "004010X093").encode(), "transaction set 277 (004010X093)"),
    ],
)
def test_unclassifiable_goes_to_quarantine(body: bytes, reason: str) -> None:
    route = classify(body)
    assert route.kind is None
    assert route.prefix == "quarantine/clearinghouse/"
    assert route.reason.startswith(reason)


def test_name_does_not_decide_the_route() -> None:
    exchange, ch, artifacts, _ = make()
    ch.drop("payment.835", x12("999"))  # named like an ERA, is a 999
    exchange.run()
    assert [k.split("-", 1)[0].rsplit("/", 1)[0] for k in artifacts.listed()] == ["acks/999"]


# --- fetching -----------------------------------------------------------------------------------------
def test_each_answer_goes_to_its_prefix_and_is_archived_after_the_copy() -> None:
    exchange, ch, artifacts, _ = make()
    for name, text in {
        "a.999": x12("999"),
        "b.277": x12("277", "005010X214"),
        "c.277": x12("277", "005010X212"),
        "d.835": x12("835"),
        "e.271": x12("271"),
    }.items():
        ch.drop(name, text)

    summary = exchange.run()

    assert summary.fetched == 5 and summary.archived == 5 and summary.quarantined == 0
    assert summary.by_kind == {"999": 1, "277ca": 1, "277": 1, "835": 1, "271": 1}
    prefixes = sorted(k.rsplit("/", 1)[0] + "/" for k in artifacts.listed())
    assert prefixes == ["acks/277ca/", "acks/999/", "eligibility/271/", "era/", "status/277/"]
    assert ch.outbound == {} and sorted(ch.archive_dir) == ["a.999", "b.277", "c.277", "d.835", "e.271"]
    # every file was read, copied and recorded before it was archived
    for name in ch.archive_dir:
        assert ch.log.index(f"read:{name}") < ch.log.index(f"archive:{name}")


def test_a_file_is_fetched_once_even_if_it_is_still_there() -> None:
    exchange, ch, artifacts, _ = make()
    ch.drop("era1.835", x12("835"))
    ch.fail_archive.add("era1.835")  # first run: copied, archive fails

    first = exchange.run()
    assert first.fetched == 1 and first.archived == 0 and first.failed == ["era1.835: ClearinghouseError"]
    assert "era1.835" in ch.outbound

    second = exchange.run()  # listed again: not read or copied again, just archived
    assert second.fetched == 0 and second.archived == 1 and second.failed == []
    assert ch.reads == ["era1.835"]
    assert len(artifacts.writes) == 1
    assert ch.outbound == {}


def test_same_content_under_another_name_is_not_copied_twice() -> None:
    exchange, ch, artifacts, ledger = make()
    ch.drop("era1.835", x12("835"))
    exchange.run()
    ch.drop("era1-resent.835", x12("835"), mtime=1_700_000_500)  # the clearinghouse re-drops it

    summary = exchange.run()

    assert summary.fetched == 0 and summary.duplicates == 1 and summary.archived == 1
    assert len(artifacts.listed("era/")) == 1
    record = ledger.get("fetched/era1-resent.835/" + f"{len(x12('835'))}-1700000500")
    assert record is not None and record["key"] == artifacts.listed("era/")[0]


def test_a_file_still_being_written_is_not_read() -> None:
    exchange, ch, artifacts, _ = make(settle=2.0)
    ch.drop("big.835", x12("835")[:50])  # the clearinghouse is writing it
    listings = {"n": 0}

    def grow(box: FakeClearinghouse) -> None:
        listings["n"] += 1
        if listings["n"] == 2:  # it grew between the two listings of this run
            box.drop("big.835", x12("835")[:120], mtime=1_700_000_002)

    ch.on_list = grow
    ch.writing.add("tmp-name")  # a .part file is never even listed (adapter rule; fake: hidden)
    summary = exchange.run()
    assert summary.unsettled == 1 and summary.fetched == 0 and ch.reads == []

    ch.on_list = None
    ch.drop("big.835", x12("835"), mtime=1_700_000_003)  # finished
    summary = exchange.run()
    assert summary.fetched == 1 and ch.reads == ["big.835"]
    assert artifacts.objects[artifacts.listed("era/")[0]] == x12("835").encode()


def test_settle_pause_between_listings_only_when_something_is_listed() -> None:
    ch, artifacts, ledger = FakeClearinghouse(), FakeArtifacts(), FakeLedger()
    pauses: list[float] = []
    exchange = ClearinghouseExchange(
        ch, artifacts, FakeOutbox(artifacts), ledger, settle_seconds=2, pause=pauses.append
    )
    exchange.run()
    assert pauses == []
    ch.drop("a.999", x12("999"))
    exchange.run()
    assert pauses == [2]


def test_a_crash_after_the_copy_and_before_the_record_rewrites_the_same_object() -> None:
    exchange, ch, artifacts, ledger = make()
    ch.drop("a.999", x12("999"))

    class Crash(Exception):
        pass

    def crash(_: str) -> None:
        raise Crash

    artifacts.on_write = crash
    with pytest.raises(Crash):
        exchange.run()
    assert ch.outbound and not ch.archive_dir and ledger.records == {}

    artifacts.on_write = None
    exchange.run()
    exchange.run()
    assert len(artifacts.listed("acks/999/")) == 1 and ch.archive_dir.keys() == {"a.999"}


def test_unreadable_file_is_quarantined_with_a_report_and_archived() -> None:
    exchange, ch, artifacts, _ = make()
    ch.drop("mystery.txt", b"PATIENT JANE DOE 1970-01-01")

    summary = exchange.run()

    assert summary.quarantined == 1 and summary.archived == 1
    data_key, report_key = artifacts.listed("quarantine/clearinghouse/")
    assert report_key == data_key + ".report.json"
    assert artifacts.objects[data_key] == b"PATIENT JANE DOE 1970-01-01"  # never lost
    report = json.loads(artifacts.objects[report_key])
    assert report["file"] == "mystery.txt" and report["reason"].startswith("no ISA header")
    assert "JANE" not in artifacts.objects[report_key].decode()  # the report names, never quotes
    assert "JANE" not in json.dumps(summary.as_dict())


def test_a_read_failure_leaves_the_file_for_the_next_run() -> None:
    exchange, ch, artifacts, _ = make()
    ch.drop("a.999", x12("999"))
    ch.fail_read.add("a.999")
    assert exchange.run().failed == ["a.999: ClearinghouseError"]
    assert artifacts.listed() == [] and "a.999" in ch.outbound
    assert exchange.run().fetched == 1


# --- sending ------------------------------------------------------------------------------------------
def test_837p_sent_once() -> None:
    exchange, ch, artifacts, ledger = make()
    artifacts.objects["outbox/837/CLM1-1.x12"] = b"ISA...837"
    artifacts.objects["outbox/837/CLM2-2.x12"] = b"ISA...837 two"

    assert exchange.run().sent == 2
    again = exchange.run()

    assert again.sent == 0 and again.already_sent == 2
    assert ch.puts == ["CLM1-1.x12", "CLM2-2.x12"]
    assert ledger.get("sent/outbox/837/CLM1-1.x12") is not None


def test_a_crash_between_put_and_record_does_not_make_a_second_remote_file() -> None:
    exchange, ch, artifacts, ledger = make()
    artifacts.objects["outbox/837/CLM1-1.x12"] = b"ISA...837"
    ch.send("CLM1-1.x12", b"ISA...837")  # the earlier run's put landed; its record did not
    ch.puts.clear()

    summary = exchange.run()

    assert summary.sent == 1 and ch.puts == []  # same deterministic name: found, not written again
    record = ledger.get("sent/outbox/837/CLM1-1.x12")
    assert record is not None and record["found_on_server"] is True


def test_a_send_failure_is_retried_next_run() -> None:
    exchange, ch, artifacts, ledger = make()
    artifacts.objects["outbox/837/CLM1-1.x12"] = b"ISA...837"
    from medbill.ports import ClearinghouseError

    original = ch.send

    def down(name: str, body: bytes) -> bool:
        raise ClearinghouseError("connection refused")

    ch.send = down  # type: ignore[method-assign]
    assert exchange.run().failed == ["CLM1-1.x12: ClearinghouseError"]
    assert ledger.get("sent/outbox/837/CLM1-1.x12") is None
    ch.send = original  # type: ignore[method-assign]
    assert exchange.run().sent == 1
