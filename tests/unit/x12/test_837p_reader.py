"""837P reader: numeric elements are strict X12 numbers, and structure and balancing problems name
their segment positions; the summary refuses (one line) what it cannot add up."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from infra.config import ClearinghouseSettings
from medbill.x12.claim837 import ControlNumbers, read_837p, summarize_837p, write_837p
from medbill.x12.cli import main
from medbill.x12.tokenizer import X12SyntaxError, tokenize
from testkit.x12_oracle import make_claim

LINES = (("99213", ("25",), "1", "125.00", (1,)), ("81002", (), "2", "20.00", (1, 2)))


def text_837p() -> str:
    claims = [make_claim("CLMA", lines=LINES), make_claim("CLMB", lines=LINES[:1], relationship="child")]
    return write_837p(
        claims,
        settings=ClearinghouseSettings(),
        control_numbers=ControlNumbers(interchange=7, group=7),
        created=datetime(2025, 3, 15, 10, 5),
    )


def position(text: str, prefix: str) -> int:
    """Position of the first segment whose text starts with ``prefix``."""
    return next(s.position for s in tokenize(text) if s.to_x12().startswith(prefix))


def test_what_we_write_reads_back_without_problems() -> None:
    summary, problems, number_errors = read_837p(text_837p())
    assert problems == [] and number_errors == [] and summary["problems"] == []
    assert summary["total_charge"] == "270.00" and summary["claim_count"] == 2


@pytest.mark.parametrize(
    "bad", ["1E2", "1_45", "NaN", "Infinity", "sNaN", "ABC", "+145.00", "\uff11\uff14\uff15", "1" * 19, "9" * 5000]
)
@pytest.mark.parametrize(
    ("old", "template", "element", "kind"),
    [
        ("CLM*CLMA*145.00", "CLM*CLMA*{}", "CLM02", "decimal"),
        ("SV1*HC:81002*20.00", "SV1*HC:81002*{}", "SV102", "decimal"),
        ("SV1*HC:81002*20.00*UN*2", "SV1*HC:81002*20.00*UN*{}", "SV104", "decimal"),
        ("LX*2", "LX*{}", "LX01", "whole"),
        ("SV1*HC:81002*20.00*UN*2***1:2", "SV1*HC:81002*20.00*UN*2***1:{}", "SV107-2", "whole"),
    ],
)
def test_numeric_elements_must_be_x12_numbers(bad: str, old: str, template: str, element: str, kind: str) -> None:
    good = text_837p()
    text = good.replace(old, template.format(bad), 1)
    at = position(good, old)
    _, _, number_errors = read_837p(text)
    (err,) = number_errors
    message = str(err)
    assert message.startswith(f"{old[:3].rstrip('*')} at segment {at} (claim CLMA): {element} ")
    assert f"is not an X12 {kind} number" in message and err.position == at
    with pytest.raises(X12SyntaxError) as raised:
        summarize_837p(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("CLM*CLMA*145.00", "CLM*CLMA*150.00", "(claim CLMA): CLM02 total charge 150.00 is not the sum of its SV102"),
        ("LX*2", "LX*3", "(claim CLMA): LX01 is 3, expected 2."),
        ("SV1*HC:81002*20.00*UN*2***1:2", "SV1*HC:81002*20.00*UN*2***1:3", "SV107-2 diagnosis pointer 3 names no"),
        ("LX*2~\nSV1*HC:81002*20.00*UN*2***1:2~\n", "LX*2~\n", "(claim CLMA): service line without an SV1."),
    ],
)
def test_structure_and_balancing_problems(old: str, new: str, expected: str) -> None:
    text = text_837p().replace(old, new, 1)
    summary, problems, number_errors = read_837p(text)
    assert number_errors == [] and any(expected in p for p in problems), problems
    assert summary["problems"] == problems  # the summary still reads: it lists them


def test_claim_outside_a_subscriber_loop_and_stray_lines() -> None:
    text = text_837p()
    first_hl = text.index("HL*1**20*1")
    text = text[:first_hl] + "LX*1~\nSV1*HC:99213*1*UN*1~\nCLM*STRAY*1***11:B:1*Y*A*Y*Y~\n" + text[first_hl:]
    text = text.replace("SE*", "SE*X", 1)  # SE01 is no longer right either
    _, problems, _ = read_837p(text)
    assert "LX at segment 8: service line outside a claim (no CLM before it)." in problems
    assert "SV1 at segment 9: SV1 without an LX before it." in problems
    assert any(p.startswith("CLM at segment 10 (claim STRAY): claim outside a subscriber") for p in problems)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("CLM*CLMA*145.00", "CLM*CLMA*ABC", "CLM at segment {} (claim CLMA): CLM02 (3 characters, not shown)"),
        ("SV1*HC:81002*20.00", "SV1*HC:81002*2O.00", "SV1 at segment {} (claim CLMA): SV102 (5 characters, not shown)"),
        ("SV1*HC:81002*20.00*UN*2", "SV1*HC:81002*20.00*UN*2E0", "SV1 at segment {} (claim CLMA): SV104 '2E0' is"),
        ("LX*2", "LX*B", "LX at segment {} (claim CLMA): LX01 (1 character, not shown) is not an X12 whole"),
    ],
)
def test_cli_non_numeric_837_amounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str
) -> None:
    path = tmp_path / "bad.837"
    good = text_837p()
    expected = expected.format(position(good, old))
    path.write_text(good.replace(old, new, 1))
    code, out, err = run(capsys, "summary", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"medbill-x12: error: {path}: {expected}") and "InvalidOperation" not in err
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1 and err == ""
    assert out.splitlines()[0].startswith(f"{path}: {expected}")
    assert out.splitlines()[-1] == f"{path}: INVALID 837P: 1 problem(s) in 1 transaction(s)"


def test_cli_validate_837_lists_every_problem_in_file_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.837"
    text = text_837p().replace("CLM*CLMA*145.00", "CLM*CLMA*146.00").replace("LX*2", "LX*X").replace("GE*1*7", "GE*2*7")
    path.write_text(text)
    code, out, _ = run(capsys, "validate", str(path))
    lines = [line.removeprefix(f"{path}: ") for line in out.splitlines()]
    assert code == 1 and len(lines) == 4 and lines[-1] == "INVALID 837P: 3 problem(s) in 1 transaction(s)"
    assert lines[0].startswith(f"CLM at segment {position(text, 'CLM*CLMA')} (claim CLMA): CLM02 total charge 146.00")
    assert lines[1].startswith(f"LX at segment {position(text, 'LX*X')} (claim CLMA): LX01")
    assert lines[2].startswith(f"GE at segment {position(text, 'GE*')}: GE01 says 2")


def test_cli_837_with_bom_crlf_and_indentation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "windows.837"
    path.write_bytes(b"\xef\xbb\xbf" + text_837p().replace("~\n", "~\r\n    ").encode())
    code, out, err = run(capsys, "validate", str(path))
    assert (code, err) == (0, "") and "OK 837P: 1 transaction(s), 2 claim(s) each the sum of its lines" in out
    code, out, err = run(capsys, "summary", str(path))
    assert (code, err) == (0, "") and json.loads(out)["total_charge"] == "270.00"


def test_cli_never_echoes_a_patient_name_that_landed_in_an_amount(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shifted.837"
    path.write_text(text_837p().replace("CLM*CLMA*145.00", "CLM*CLMA*DOE", 1))
    for command in ("summary", "validate"):
        _, out, err = run(capsys, command, str(path))
        assert "DOE" not in out + err


def test_an_other_payer_billing_provider_inside_a_claim_is_not_the_billing_provider() -> None:
    good = text_837p()
    billing = [c["billing_npi"] for c in read_837p(good)[0]["claims"]]
    # Loop 2330G (another payer's billing provider, NM1*85 without an NPI) inside the first claim.
    hi = good.index("HI*", good.index("CLM*CLMA"))
    hi_end = good.index("~", hi) + 1
    text = good[:hi_end] + "\nNM1*85*2*OTHER PAYER BILLING PROV~" + good[hi_end:]
    summary, problems, number_errors = read_837p(text)
    assert problems == [] and number_errors == []  # (SE01 is now one short: an envelope problem only)
    assert [c["billing_npi"] for c in summary["claims"]] == billing and all(billing)


def test_a_transaction_without_claims_is_a_problem() -> None:
    good = text_837p()
    head = good[: good.index("HL*2*")]
    text = head + "SE*10*0007~\nGE*1*7~\nIEA*1*000000007~\n"
    summary, problems, _ = read_837p(text)
    assert summary["claim_count"] == 0
    assert f"ST at segment {position(good, 'ST*')}: no claims in transaction 0007." in problems


def test_claim_and_line_charges_are_summed_without_rounding() -> None:
    # 17 + 18 digits at different scales: the exact sum needs 35 significant digits, the default
    # Decimal context keeps 28 and would round it to exactly CLM02.
    text = (
        text_837p()
        .replace("CLM*CLMA*145.00", "CLM*CLMA*100000000000000000", 1)
        .replace("SV1*HC:99213:25*125.00", "SV1*HC:99213:25*99999999999999999", 1)
        .replace("SV1*HC:81002*20.00", "SV1*HC:81002*1.00000000000000001", 1)
    )
    _, problems, number_errors = read_837p(text)
    assert number_errors == []
    assert any("(claim CLMA): CLM02 total charge 100000000000000000.00 is not the sum" in p for p in problems), problems


def test_read_submission_gives_each_claim_with_the_loops_it_sits_in() -> None:
    """The one 837P reader: what the 277CA writer and the payer simulator need, besides the summary."""
    from medbill.x12.claim837 import read_submission

    sub = read_submission(text_837p())
    assert sub.problems == [] and sub.number_errors == [] and sub.envelope_problems == []
    assert sub.interchange is not None and sub.interchange.control_number == "000000007"
    assert sub.submitter is not None and sub.submitter.id == ClearinghouseSettings().sender_id
    assert sub.receiver is not None and sub.receiver.id == ClearinghouseSettings().receiver_id
    assert sub.reference == "0000000070007"  # BHT03: ISA13 + ST02
    assert [(t.control_number, t.claim_count) for t in sub.transactions] == [("0007", 2)]
    a, b = sub.claims
    assert (a.claim_id, a.total, a.payer_id, a.frequency_code, a.place_of_service) == (
        "CLMA",
        D("145.00"),
        "PAYER01",
        "1",
        "11",
    )
    assert a.billing is not None and a.billing.tin and a.billing_npi == a.billing.npi != ""
    assert a.patient is None and a.patient_name == a.subscriber  # self: the subscriber is the patient
    assert a.member_id == "MEM123456" and a.diagnosis_codes == ["E119", "I10"]
    assert [(ln.line_number, ln.procedure_code, ln.modifiers, ln.charge, ln.units) for ln in a.lines] == [
        (1, "99213", ["25"], D("125.00"), "1"),
        (2, "81002", [], D("20.00"), "2"),
    ]
    assert [(ln.service_date, ln.service_date_end, ln.control_number) for ln in a.lines] == [
        ("20250314", "20250314", "CLMA-1"),
        ("20250314", "20250314", "CLMA-2"),
    ]
    assert b.patient is not None and b.patient_name is b.patient  # a child: 2010CA names the patient
    assert (b.patient.last, b.patient.first) == ("DOE", "JANE") and (b.subscriber.last, b.subscriber.first) == (
        "DOE",
        "JOHN",
    )
    assert "DOE" not in repr(b) and "MEM123456" not in repr(b)  # names and member ids stay out of logs
