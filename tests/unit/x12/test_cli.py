"""medbill-x12 CLI: JSON summary shape, validate exit codes, one clear line (no traceback) on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from medbill.x12.cli import main
from medbill.x12.remittance835 import write_835

from .test_835_reader import TEXT as HAND_WRITTEN_835
from .test_835_writer import make_payment


@pytest.fixture
def era(tmp_path: Path) -> Path:
    path = tmp_path / "era.835"
    path.write_text(HAND_WRITTEN_835)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_835_json_shape(era: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "summary", str(era))
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["transaction"] == "835" and doc["envelope_problems"] == []
    (p,) = doc["payments"]
    assert p["trn"] == "EFT0000123" and p["payer"] == "ACME HEALTH PLAN" and p["total_paid"] == "186.00"
    assert p["balanced"] is True and p["problems"] == []
    assert p["provider_adjustments"][0] == {
        "provider_id": "1234567893",
        "fiscal_period_date": "20251231",
        "reason": "WO",
        "reference": "CLM0000",
        "amount": "10.00",
    }
    assert [a["reason"] for a in p["provider_adjustments"]] == ["WO", "L6", "FB", "72", "CS", "J1"]
    c1, c2 = p["claims"]
    assert (c1["claim_id"], c1["status_code"], c1["charge"], c1["paid"], c1["patient_responsibility"]) == (
        "CLM0001",
        "1",
        "300.00",
        "190.00",
        "50.00",
    )
    assert c1["adjustments"] == [{"group": "PR", "reason": "2", "amount": "20.00", "quantity": "1"}]
    line = c1["lines"][0]
    assert (line["procedure"], line["modifiers"], line["charge"], line["paid"], line["allowed"]) == (
        "99214",
        ["25", "GT", "59", "XU"],
        "200.00",
        "130.00",
        "160.00",
    )
    assert line["control_number"] == "CLM0001-1"
    assert line["adjustments"][1] == {"group": "PR", "reason": "1", "amount": "30.00"}
    assert c2["status_code"] == "4" and c2["paid"] == "0.00"


def test_summary_never_prints_patient_names_or_member_ids(era: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "summary", str(era))
    for phi in ("DOE", "JANE", "ROE", "W111222333", "W999"):
        assert phi not in out


def test_summary_amounts_are_two_decimal_strings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gen.835"
    path.write_text(write_835([make_payment(2)], sender_id="P", receiver_id="R", interchange_control_number=1))
    _, out, _ = run(capsys, "summary", str(path))
    p = json.loads(out)["payments"][0]
    amounts = [p["total_paid"], *(c["paid"] for c in p["claims"]), *(a["amount"] for a in p["provider_adjustments"])]
    assert all(isinstance(a, str) and a.split(".")[1].__len__() == 2 for a in amounts)
    assert D(p["total_paid"]) == sum(D(c["paid"]) for c in p["claims"]) - sum(
        D(a["amount"]) for a in p["provider_adjustments"]
    )


def test_validate_balanced_file_exits_0(era: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(era))
    assert code == 0 and "OK 835: 1 transaction(s), balanced" in out and err == ""


def test_validate_unbalanced_file_exits_1_naming_positions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.835"
    path.write_text(HAND_WRITTEN_835.replace("CAS*PR*2*20.00*1", "CAS*PR*2*15.00*1").replace("GE*1*123", "GE*2*123"))
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1
    assert f"{path}: CLP at segment 20 (claim CLM0001): charge 300.00 - paid 190.00 = 110.00" in out
    assert f"{path}: GE at segment 52: GE01 says 2 transactions" in out
    assert "INVALID 835: 2 problem(s)" in out


def test_validate_other_transaction_kinds_checks_envelopes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ack = (
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *250101*1200*^*00501*000000001*0*P*:~"
        "GS*FA*A*B*20250101*1200*1*X*005010X231A1~ST*999*0001~AK1*HC*1*005010X222A1~AK9*A*1*1*1~SE*4*0001~"
        "GE*1*1~IEA*1*000000002~"
    )
    path = tmp_path / "ack.999"
    path.write_text(ack)
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1 and "IEA at segment 8: IEA02 control number 000000002 does not match ISA13 000000001" in out
    path.write_text(ack.replace("IEA*1*000000002", "IEA*1*000000001"))
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 0 and "OK 999" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "Not X12: the input is empty."),
        (b"PK\x03\x04\x00\x00binary zip junk \xff\xfe", "Not X12"),
        (b"name,dob\nDOE,19800101\n", "Not X12"),
        (b"ISA*00*          *00*    ", "truncated: the file ends inside the ISA"),
        (
            b"ISA*00*          *00*          *ZZ*A              *ZZ*B              "
            b"*250101*1200*^*00501*000000001*0*P**~",
            "component separator",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    for command in ("summary", "validate"):
        code, out, err = run(capsys, command, str(path))
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("medbill-x12: error: ") and expected in err
        assert "Traceback" not in err and "DOE" not in err


def test_missing_file_and_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "summary", str(tmp_path / "nope.835"))
    assert code == 2 and err.strip() == f"medbill-x12: error: {tmp_path / 'nope.835'}: no such file"
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_unsupported_transaction_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.278"  # 270/271 since issue 9, 276/277 claim status since issue 15; 278 is not
    path.write_text(
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *250101*1200*^*00501*000000001*0*P*:~"
        "GS*HI*A*B*20250101*1200*1*X*005010X217~ST*278*0001~SE*2*0001~GE*1*1~IEA*1*000000001~"
    )
    code, _, err = run(capsys, "summary", str(path))
    assert code == 2 and "transaction set 278 is not supported" in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_console_script_and_module_run_as_subprocesses(era: Path, tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "medbill.x12", "validate", str(era)], capture_output=True, text=True)
    assert ok.returncode == 0 and "balanced" in ok.stdout
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    script = Path(sys.executable).parent / "medbill-x12"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "medbill.x12"]
    bad = subprocess.run([*cmd, "summary", str(junk)], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == f"medbill-x12: error: {junk}: Not X12: the input does not start with an ISA segment.\n"


def _one_error_line(err: str, path: Path) -> str:
    assert err.count("\n") == 1 and err.startswith(f"medbill-x12: error: {path}: ") and "Traceback" not in err
    return err[len(f"medbill-x12: error: {path}: ") :].rstrip("\n")


@pytest.mark.parametrize("command", ["summary", "validate"])
def test_file_cut_inside_a_segment_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = tmp_path / "cut.835"
    path.write_text(HAND_WRITTEN_835[: HAND_WRITTEN_835.index("NM1*QC") + 12])  # "NM1*QC*1*DOE"
    code, out, err = run(capsys, command, str(path))
    assert code == 2 and out == ""
    message = _one_error_line(err, path)
    assert message == "truncated: the file ends inside segment 22 (NM1), with no segment terminator '~' after it."


@pytest.mark.parametrize("command", ["summary", "validate"])
@pytest.mark.parametrize(
    ("cut_before", "expected"),
    [
        (
            "SVC*HC:81002",
            "truncated: the file ends after segment 40 (LQ) inside an open ST 0001 (segment 3); "
            "expected SE, GE and IEA.",
        ),
        (
            "IEA*",
            "truncated: the file ends after segment 52 (GE) inside the interchange opened by the ISA at segment 1",
        ),
    ],
)
def test_file_cut_at_a_segment_boundary_before_the_iea_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, cut_before: str, expected: str
) -> None:
    path = tmp_path / "cut.835"
    text = HAND_WRITTEN_835.replace("~", "~\r\n")
    path.write_text(text[: text.index(cut_before)])
    code, out, err = run(capsys, command, str(path))
    assert code == 2 and out == ""
    assert _one_error_line(err, path).startswith(expected)


@pytest.mark.parametrize("command", ["summary", "validate"])
def test_body_ending_segments_with_line_breaks_names_the_declared_terminator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    # The ISA declares '~' but every other segment ends with a line break (the audit's wrongdelim3.835).
    path = tmp_path / "lines.835"
    isa_text, body = HAND_WRITTEN_835[:106], HAND_WRITTEN_835[106:]
    path.write_text(isa_text + "\n" + body.replace("~", "\n\n"))
    code, out, err = run(capsys, command, str(path))
    assert code == 2 and out == ""
    message = _one_error_line(err, path)
    assert message.startswith("Segment 2 (GS): expected the segment terminator '~' that the ISA declares")
    assert "found line breaks and then an ST segment" in message and "No ST segment" not in message


def test_body_using_other_element_separator_than_the_isa(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pipes.835"
    path.write_text(HAND_WRITTEN_835[:106] + HAND_WRITTEN_835[106:].replace("*", "|"))
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2 and "Segment 2: expected a segment identifier" in _one_error_line(err, path)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("CLP*CLM0001*1*300.00", "CLP*CLM0001*1*3E2", "CLP at segment 20 (claim CLM0001): CLP03 '3E2' is not an X12"),
        (
            "SVC*HC:81002*100.00",
            "SVC*HC:81002*QQ",
            "SVC at segment 41 (claim CLM0001, procedure 81002): SVC02 (2 characters, not shown)",
        ),
        ("CAS*CO*29*100.00", "CAS*CO*29*NaN", "CAS at segment 47 (claim CLM0002): CAS03 'NaN' is not an X12"),
        ("BPR*I*186.00", "BPR*I*Infinity", "BPR at segment 4: BPR02 'Infinity' is not an X12 decimal number"),
    ],
)
def test_non_numeric_835_amounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str
) -> None:
    path = tmp_path / "nonnum.835"
    path.write_text(HAND_WRITTEN_835.replace(old, new))
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1 and err == ""
    assert f"{path}: {expected}" in out and "cannot be balanced." in out and "OK 835" not in out
    code, out, err = run(capsys, "summary", str(path))
    assert code == 0 and err == ""
    (payment,) = json.loads(out)["payments"]
    assert payment["balanced"] is False and any(p.startswith(expected) for p in payment["problems"])
    assert [len(c["lines"]) for c in payment["claims"]] == [2, 0]  # the bad line or claim is not dropped


def test_bom_crlf_and_indentation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "windows.835"
    path.write_bytes(b"\xef\xbb\xbf" + HAND_WRITTEN_835.replace("~", "~\r\n\t  ").encode())
    code, out, err = run(capsys, "validate", str(path))
    assert code == 0 and err == "" and "OK 835: 1 transaction(s), balanced" in out
    code, out, err = run(capsys, "summary", str(path))
    assert code == 0 and err == "" and json.loads(out)["payments"][0]["total_paid"] == "186.00"


def test_damaged_st01_is_not_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.999"
    path.write_text(
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *250101*1200*^*00501*000000001*0*P*:~"
        "GS*FA*A*B*20250101*1200*1*X*005010X231A1~ST*9\n9*0001~SE*2*0001~GE*1*1~IEA*1*000000001~"
    )
    code, out, err = run(capsys, "summary", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "transaction set (unreadable ST01) is not supported" in err


def test_validate_help_says_what_is_checked_per_kind(capsys) -> None:
    import medbill.x12.cli as cli

    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    assert "835 numbers and balancing" in out and "837P numbers" in out
    assert "999 counts and AK9/IK5 agreement" in out and "277CA STC04" in out
    doc = cli.__doc__ or ""
    assert all(f"\n      {kind}" in doc for kind in ("835", "837P", "999", "277CA"))
