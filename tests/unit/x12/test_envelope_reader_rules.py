"""`EnvelopeReader.transactions` on files with broken envelopes: which transactions it hands out,
with which segments, group and interchange, and the problems it reports (the same as
`check_envelopes` on the same file).

A transaction whose SE is missing is still handed out, ending where the next ST, GE or IEA begins.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from medbill.x12.envelope import EnvelopeReader, Transaction, check_envelopes
from medbill.x12.tokenizer import Delimiters

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250101*1200*^*00501*000000905*0*P*:~"
ISA_906 = ISA.replace("000000905", "000000906")
GS7 = "GS*HP*PAYERAPP*MEDBILL*20250102*1305*7*X*005010X221A1~"
GS8 = GS7.replace("*7*X", "*8*X")

Summary = tuple[int, str, str | None, str | None, list[int]]


def summary(tx: Transaction) -> Summary:
    """ST position, ST02, GS06, ISA13 and the positions of its segments."""
    return (
        tx.header.position,
        tx.header.control_number,
        tx.group.control_number if tx.group is not None else None,
        tx.interchange.control_number if tx.interchange is not None else None,
        [seg.position for seg in tx.segments],
    )


def read(source: str | Iterable[str]) -> tuple[list[Transaction], list[str]]:
    reader = EnvelopeReader(source)
    txs = list(reader.transactions())
    return txs, reader.problems


@pytest.mark.parametrize(
    ("text", "transactions", "problems"),
    [
        pytest.param(
            ISA + GS7 + "ST*835*0001~BHT*0019~ST*835*0002~REF*EV*1~SE*3*0002~GE*2*7~IEA*1*905~",
            [(3, "0001", "7", "000000905", [3, 4]), (5, "0002", "7", "000000905", [5, 6, 7])],
            ["ST at segment 5: the transaction opened at segment 3 has no SE."],
            id="an ST ends the transaction before it",
        ),
        pytest.param(
            ISA + GS7 + "ST*835*0001~BHT*0019~GE*1*7~" + GS8 + "ST*835*0002~SE*2*0002~GE*1*8~IEA*2*905~",
            [(3, "0001", "7", "000000905", [3, 4]), (7, "0002", "8", "000000905", [7, 8])],
            ["GE at segment 5: the transaction opened at segment 3 has no SE."],
            id="a GE ends the transaction in its group",
        ),
        pytest.param(
            ISA + GS7 + "ST*835*0001~BHT*0019~IEA*1*905~" + ISA_906 + GS8 + "ST*835*0002~SE*2*0002~GE*1*8~IEA*1*906~",
            [(3, "0001", "7", "000000905", [3, 4]), (8, "0002", "8", "000000906", [8, 9])],
            ["IEA at segment 5: the group opened at segment 2 has no GE."],
            id="an IEA ends the transaction in its interchange",
        ),
        pytest.param(
            ISA + GS7 + "SE*1*0001~GE*0*7~IEA*1*905~",
            [],
            ["SE at segment 3: no ST opened this transaction."],
            id="an SE without ST is no transaction",
        ),
        pytest.param(
            ISA + "ST*835*0001~BHT*0019~IEA*0*905~",
            [(2, "0001", None, "000000905", [2, 3])],
            [
                "ST at segment 2: transaction outside a functional group (no GS before it).",
                "End of input after segment 4: the transaction opened at segment 2 has no SE.",
            ],
            id="a transaction outside any group",
        ),
        pytest.param(
            ISA + GS7 + "ST*835*0001~SE*2*0001~REF*EV*1~GE*1*7~IEA*1*905~",
            [(3, "0001", "7", "000000905", [3, 4])],
            ["REF at segment 5: segment outside a transaction (no ST before it)."],
            id="a segment between SE and GE",
        ),
        pytest.param(
            ISA + "REF*EV*1~" + GS7 + "ST*835*0001~SE*2*0001~GE*1*7~IEA*1*905~",
            [(4, "0001", "7", "000000905", [4, 5])],
            ["REF at segment 2: segment outside a transaction (no ST before it)."],
            id="a segment before the first ST",
        ),
    ],
)
def test_transactions_and_problems_of_a_broken_envelope(
    text: str, transactions: list[Summary], problems: list[str]
) -> None:
    txs, reported = read(text)
    assert [summary(tx) for tx in txs] == transactions
    assert reported == problems
    assert check_envelopes(text)[1] == problems


PIPES = Delimiters("|", "^", ">", "~")
# One file in chunks as a stream delivers it: the reader sees one batch of segments per chunk.
CHUNKS = [
    ISA.replace("*", "|").replace("|:~", "|>~"),
    "GS|HP|S|R|20250101|1200|7|X|005010X221A1~ST|835|0001~BPR|I|1>2~",
    "REF|EV|1~REF|EV|2~",  # inside the transaction: no envelope segment in the whole batch
    "REF|EV|3~SE|6|0001~GE|1|7~",
    "REF|ZZ|9~",  # outside any transaction: a whole batch of it
    "IEA|1|000000905~",
]


def test_a_transaction_spread_over_several_batches_keeps_every_segment_in_order() -> None:
    txs, problems = read(CHUNKS)
    assert [summary(tx) for tx in txs] == [(3, "0001", "7", "000000905", [3, 4, 5, 6, 7, 8])]
    (tx,) = txs
    assert [seg.id for seg in tx.segments] == ["ST", "BPR", "REF", "REF", "REF", "SE"]
    assert [seg.get(2) for seg in tx.segments[2:5]] == ["1", "2", "3"]
    assert problems == ["REF at segment 10: segment outside a transaction (no ST before it)."]


def test_segments_and_interchanges_carry_the_files_own_delimiters() -> None:
    txs, _ = read(CHUNKS)
    (tx,) = txs
    assert {seg.delimiters for seg in tx.segments} == {PIPES}
    assert tx.segments[1].components(2) == ["1", "2"]  # BPR02 split on ">", the file's component separator
    assert tx.interchange is not None and tx.interchange.delimiters == PIPES
    interchanges, problems = check_envelopes(CHUNKS)
    assert [ic.delimiters for ic in interchanges] == [PIPES]
    assert problems == ["REF at segment 10: segment outside a transaction (no ST before it)."]
