"""Public 835 samples (../shared/x12-samples/835, read in place): each parses, and the balancing
verdict is the one found by hand from the numbers in the file.

Hand checks behind the verdicts:
- lfh_managed-care: CLP 800-450 = 350 = CO A2 50 + line PR1 300; BPR 945 = 450 + 495.
- lfh_medicare-part-a: BPR 150000.00 = 138018.40 + 11980.33 - PLB CV:CP (-1.27).
- lfh_secondary-payment: claim 2: 751.50-310 = 441.50 = 136.50 + (150+70+85); BPR 1222 = 912 + 310.
- lfh_cob-contractural-adjustment: 541-34 = 507 = OA23 516 + OA94 -9.
- edi835p_emedny: BPR 45.75 = 34.25 + 0 + 11.50; edi835p_uhc_legacy: 349.99 = 88.92 + 261.07.
- pyx12_835_mult_loops: 915.39 denied = 500.04 + 127.80 + 287.55 line adjustments; BPR*H 0.
- oop_835_Example1_reversals_plb: all ten claims balance (reversals 22 with negative amounts too) and
  sum(CLP04) = 5.75 = BPR02, but the PLB CV -1.27 (which raises the payment) is not in BPR02:
  the transaction is off by 1.27. Also GS08 is "5010" (not 005010X221A1) and the last CLP has
  no CLP03/CLP04.
- oop_835_ExampleFromNth_56claims: de-identified by overwriting digits with 9s, amounts included
  (claim at segment 18: charge 999.99, lines 999.99 + 99.99 all adjusted = 1099.98), so the
  arithmetic is gone: all three transactions are unbalanced.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from medbill.x12.cli import main
from medbill.x12.remittance835 import parse_835, read_835, write_835
from testkit.x12_oracle import pyx12_errors

from .conftest import sample_text

BALANCED = {
    # file: (claims per payment, BPR02 per payment)
    "lfh_managed-care.835": ([2], ["945.00"]),
    "lfh_medicare-part-a.835": ([2], ["150000.00"]),
    "lfh_secondary-payment.835": ([2], ["1222.00"]),
    "lfh_cob-contractural-adjustment.835": ([1], ["34.00"]),
    "edi835p_emedny_sample.txt": ([3], ["45.75"]),
    "edi835p_uhc_legacy_sample.txt": ([2], ["349.99"]),
    "pyx12_835_mult_loops.txt": ([1], ["0"]),
}
REVERSALS = "oop_835_Example1_reversals_plb.txt"
NTH = "oop_835_ExampleFromNth_56claims.txt"


def test_every_sample_835_parses(x12_samples: Path) -> None:
    files = sorted((x12_samples / "835").iterdir())
    assert {f.name for f in files} >= {*BALANCED, REVERSALS, NTH}
    for f in files:
        payments = parse_835(sample_text(f))
        assert payments and all(p.claims for p in payments), f.name
        assert all(c.claim_id and c.status_code for p in payments for c in p.claims), f.name


@pytest.mark.parametrize("name", sorted(BALANCED))
def test_balanced_samples(x12_samples: Path, name: str) -> None:
    claims, totals = BALANCED[name]
    payments = parse_835(sample_text(x12_samples / "835" / name))
    assert [len(p.claims) for p in payments] == claims
    assert [p.total_paid for p in payments] == [D(t) for t in totals]
    for p in payments:
        assert p.balanced and p.problems == [], p.problems
        assert all(c.balanced for c in p.claims)


def test_medicare_part_a_plb_and_inpatient_details(x12_samples: Path) -> None:
    (p,) = parse_835(sample_text(x12_samples / "835" / "lfh_medicare-part-a.835"))
    (adj,) = p.provider_adjustments
    assert (adj.provider_id, adj.fiscal_period_date, adj.reason, adj.reference, adj.amount) == (
        "6543210903",
        "20021231",
        "CV",
        "CP",
        D("-1.27"),
    )
    assert p.claims[0].inpatient[3] == "138018.40" and p.claims[1].remark_codes == ["MA02"]
    assert p.payee.npi == "6543210903" and p.payer.reference("2U") == "999"


def test_reversals_and_plb_sample_is_off_by_the_plb(x12_samples: Path) -> None:
    (p,) = parse_835(sample_text(x12_samples / "835" / REVERSALS))
    assert [c.status_code for c in p.claims] == ["1", "4", "4", "2", "4", "1", "25", "22", "22", "22"]
    assert all(c.balanced for c in p.claims)  # every claim, reversals included, balances
    assert [c.paid for c in p.claims if c.is_reversal] == [D("-42.58"), D("-86.76"), D("0")]
    assert sum((c.paid for c in p.claims), D(0)) == p.total_paid == D("5.75")
    assert [(a.reason, a.reference, a.amount) for a in p.provider_adjustments] == [("CV", "9876514", D("-1.27"))]
    assert not p.balanced
    assert p.problems == [
        "ST at segment 3: implementation guide 5010 is not 005010X221A1.",
        "CLP at segment 98 (claim 090909): CLP03 charge and CLP04 paid are mandatory; missing ones are read as 0.00.",
        "BPR at segment 4 (trace A04B001017.07504): total paid 5.75 but claims paid 5.75 - provider adjustments "
        "-1.27 = 7.02",
    ]


def test_deidentified_nth_sample_does_not_balance(x12_samples: Path) -> None:
    payments = parse_835(sample_text(x12_samples / "835" / NTH))
    assert [len(p.claims) for p in payments] == [19, 23, 14]  # 56 claims in three transactions
    assert not any(p.balanced for p in payments)
    assert [sum(x.startswith("CLP") for x in p.problems) for p in payments] == [17, 23, 11]
    assert [sum(x.startswith("SVC") for x in p.problems) for p in payments] == [8, 22, 20]
    assert payments[0].problems[0] == (
        "CLP at segment 18 (claim 9999999999-999): charge 999.99 - paid 0.00 = 999.99 but adjustments sum to 1099.98"
    )
    assert [x for p in payments for x in p.problems if x.startswith("BPR")] == [
        "BPR at segment 4 (trace 999999999): total paid 999.99 but claims paid 776.06 - provider adjustments "
        "0.00 = 776.06",
        "BPR at segment 295 (trace 999999999): total paid 9999.99 but claims paid 3111.09 - provider adjustments "
        "0.00 = 3111.09",
        "BPR at segment 564 (trace 999999999): total paid 482.13 but claims paid 3439.89 - provider adjustments "
        "0.00 = 3439.89",
    ]


def test_streaming_and_materialized_reads_agree(x12_samples: Path) -> None:
    with (x12_samples / "835" / NTH).open(encoding="utf-8") as fh:
        streamed = [(p.trace_number, [c.claim_id for c in p.iter_claims()], p.balanced) for p in read_835(fh)]
    parsed = parse_835(sample_text(x12_samples / "835" / NTH))
    assert streamed == [(p.trace_number, [c.claim_id for c in p.claims], p.balanced) for p in parsed]


@pytest.mark.parametrize("name", [*sorted(BALANCED), REVERSALS, NTH])
def test_samples_round_trip_through_the_writer(x12_samples: Path, name: str) -> None:
    payments = parse_835(sample_text(x12_samples / "835" / name))
    verdicts = [p.balanced for p in payments]
    back = parse_835(write_835(payments, sender_id="S", receiver_id="R", interchange_control_number=1))
    assert back == payments
    assert [p.balanced for p in back] == verdicts


@pytest.mark.parametrize("name", ["edi835p_emedny_sample.txt", "pyx12_835_mult_loops.txt"])
def test_pyx12_valid_samples_are_also_clean_for_us(x12_samples: Path, name: str) -> None:
    text = sample_text(x12_samples / "835" / name)
    assert pyx12_errors(text) == []
    assert all(p.valid for p in parse_835(text))


@pytest.mark.parametrize(("name", "code"), [("lfh_managed-care.835", 0), (REVERSALS, 1), (NTH, 1)])
def test_cli_validate_verdicts(x12_samples: Path, name: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(x12_samples / "835" / name)]) == code
    out = capsys.readouterr().out
    assert ("OK 835" in out) == (code == 0)
