"""``medbill-x12``: summarize or validate an X12 file from the command line.

    medbill-x12 summary FILE     JSON summary (835 here; 999, 277CA, 837P, 270, 271, 276, 277 by their readers)
    medbill-x12 validate FILE    exit 0 when the envelopes are well formed and the content checks
                                 of the file's kind find nothing (docs/x12.md has the full list):

      835    every amount a strict X12 number; claim, line and payment balancing
      837P   numeric elements are X12 numbers; every transaction has claims, each in a subscriber
             loop with a billing provider NPI (2010AA) and a payer id, with HI and service lines;
             LX01 in sequence; diagnosis pointers name a diagnosis; CLM02 = sum of SV102
      999    AK9 counts / IK3 positions are non-negative whole numbers; every AK2 has an IK5,
             every AK1 an AK9; AK904 and AK901 agree with the AK2 verdicts
      277CA  STC04 amounts are X12 numbers; the OK line names rejected levels and claim counts
      270    HL 20/21/22/23 hierarchy, the NM1 of each level, codes from the 005010X279A1 tables,
             D8/RD8 dates; every patient has a TRN trace number and asks something (EQ)
      271    the same structure checks, AAA reject reasons allowed in their loop, EB codes and strict
             X12 numbers, LS/LE pairs; every patient has an EB or an AAA; the OK line counts the
             members by status and names rejected sources and receivers
      other  envelopes only

A file that rejects (a 999 group, a 277CA claim or batch) is still well formed: exit 0, and the
OK line says what it rejected.

Exit codes: 0 fine, 1 problems found (validate), 2 unreadable input or usage error. Bad input
gives one line on stderr, never a traceback. Output holds ids, codes and amounts, never patient
names, birth dates, member ids or addresses.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from medbill.x12.envelope import check_envelopes
from medbill.x12.remittance835 import ZERO, ClaimPayment, Payment, RemittanceReader, ServiceLine, money
from medbill.x12.tokenizer import X12SyntaxError, tokenize

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT = 0, 1, 2

# transaction kind -> (module, summarize function) of the other X12 readers, imported lazily
_SUMMARIZERS = {
    "999": ("medbill.x12.ack999", "summarize_999"),
    "277CA": ("medbill.x12.ack277ca", "summarize_277ca"),
    "837P": ("medbill.x12.claim837", "summarize_837p"),
    "270": ("medbill.x12.eligibility.summary", "summarize_270"),
    "271": ("medbill.x12.eligibility.summary", "summarize_271"),
    "276": ("medbill.x12.status276", "summarize_276"),
    "277": ("medbill.x12.status276", "summarize_277"),
}


class CliError(Exception):
    """A problem with the input that ends the command with one line on stderr."""


def _read_text(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not an X12 file") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # X12 is ASCII; a Latin-1 export is still worth reading, binary junk fails at the ISA check.
        return data.decode("latin-1")


def detect_kind(text: str) -> str:
    """'835', '837P', '999', '277CA' (or the bare ST01) from the first transaction's ST01 / GS08."""
    gs08 = ""
    for seg in tokenize(text):
        if seg.id == "GS":
            gs08 = seg.get(8)
        elif seg.id == "ST":
            st01 = seg.get(1)
            version = seg.get(3) or gs08
            if st01 == "837":
                # 837P is X222; the institutional (X223) and dental (X224) ones are not ours
                return "837P" if "X222" in version or not version.startswith("005010X") else "837"
            if st01 == "277" and "X214" in version:
                return "277CA"
            if st01 == "277" and "X212" in version:
                return "277"  # claim status response
            # ST01 goes into messages: anything but a plain id (a damaged file) is not echoed
            return st01 if st01.isascii() and st01.isalnum() and len(st01) <= 6 else "(unreadable ST01)"
        if seg.position > 50:
            break
    raise X12SyntaxError("No ST segment found: the file holds no transaction.", None)


# ---------------------------------------------------------------------------------------------
# 835 summary


def _adjustments(adjs: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "group": a.group,
            "reason": a.reason,
            "amount": money(a.amount),
            **({"quantity": str(a.quantity)} if a.quantity is not None else {}),
        }
        for a in adjs
    ]


def _line(line: ServiceLine) -> dict[str, Any]:
    return {
        "procedure": line.procedure_code,
        "qualifier": line.procedure_qualifier,
        "modifiers": line.modifiers,
        "charge": money(line.charge),
        "paid": money(line.paid),
        "units": str(line.units) if line.units is not None else None,
        "allowed": money(line.allowed) if line.allowed is not None else None,
        "service_date": line.service_date,
        "control_number": line.control_number,
        "adjustments": _adjustments(line.adjustments),
        "remarks": [{"qualifier": q, "code": c} for q, c in line.remarks],
    }


def _claim(claim: ClaimPayment) -> dict[str, Any]:
    return {
        "claim_id": claim.claim_id,
        "status_code": claim.status_code,
        "charge": money(claim.charge),
        "paid": money(claim.paid),
        "patient_responsibility": money(claim.patient_responsibility or ZERO),
        "payer_claim_control_number": claim.payer_claim_control_number,
        "filing_indicator": claim.filing_indicator,
        "balanced": claim.balanced,
        "adjustments": _adjustments(claim.adjustments),
        "remark_codes": claim.remark_codes,
        "lines": [_line(line) for line in claim.lines],
    }


def _payment(payment: Payment) -> dict[str, Any]:
    claims = [_claim(c) for c in payment.iter_claims()]  # streams; totals final afterwards
    return {
        "trn": payment.trace_number,
        "payer": payment.payer.name,
        "payer_id": payment.payer_identifier,
        "payee": {"name": payment.payee.name, "npi": payment.payee.npi, "id": payment.payee.id},
        "handling_code": payment.handling_code,
        "credit_debit": payment.credit_debit,
        "payment_method": payment.payment_method,
        "payment_date": payment.payment_date,
        "total_paid": money(payment.total_paid),
        "claim_count": payment.claim_count,
        "balanced": payment.balanced,
        "problems": payment.problems,
        "provider_adjustments": [
            {
                "provider_id": a.provider_id,
                "fiscal_period_date": a.fiscal_period_date,
                "reason": a.reason,
                "reference": a.reference,
                "amount": money(a.amount),
            }
            for a in payment.provider_adjustments
        ],
        "claims": claims,
    }


def summarize_835(text: str) -> dict[str, Any]:
    reader = RemittanceReader(text)
    payments = [_payment(p) for p in reader.payments()]
    return {"transaction": "835", "payments": payments, "envelope_problems": reader.problems}


def _summarizer(kind: str) -> Callable[[str], dict[str, Any]]:
    if kind == "835":
        return summarize_835
    if kind not in _SUMMARIZERS:
        raise CliError(f"transaction set {kind} is not supported (835, 837P, 999, 277CA, 270 and 271 are)")
    module_name, func_name = _SUMMARIZERS[kind]
    try:
        module = importlib.import_module(module_name)
        func: Callable[[str], dict[str, Any]] = getattr(module, func_name)
    except (ImportError, AttributeError):
        raise CliError(f"the {kind} reader is not available in this build") from None
    return func


# ---------------------------------------------------------------------------------------------
# commands


def cmd_summary(path: str, out: TextIO) -> int:
    text = _read_text(path)
    kind = detect_kind(text)
    summary = _summarizer(kind)(text)
    if "transaction" not in summary:  # every summary says what it is, like the 835 one
        summary = {"transaction": kind, **summary}
    json.dump(summary, out, indent=2, default=str)
    out.write("\n")
    return EXIT_OK


_SEGMENT_NUMBER = re.compile(r"segment (\d+)")


def _by_position(problems: list[str]) -> list[str]:
    """Problems in file order (each names its segment; the few that do not stay first)."""

    def key(problem: str) -> int:
        found = _SEGMENT_NUMBER.search(problem)
        return int(found.group(1)) if found else 0

    return sorted(problems, key=key)


def _check_835(text: str) -> tuple[int, list[str], str]:
    reader = RemittanceReader(text)
    count, balanced, problems = 0, True, []
    for payment in reader.payments():
        payment.drain()
        count += 1
        balanced = balanced and payment.balanced
        problems.extend(payment.problems)
    problems.extend(reader.problems)
    return count, problems, "balanced, " if balanced else ""


def _check_837p(text: str) -> tuple[int, list[str], str]:
    from medbill.x12.claim837 import read_837p

    summary, problems, number_errors = read_837p(text)
    found = [*summary["envelope_problems"], *(str(e) for e in number_errors), *problems]
    claims = summary["claim_count"]
    return len(summary["transactions"]), _by_position(found), f"{claims} claim(s) each the sum of its lines, "


def _check_999(text: str) -> tuple[int, list[str], str]:
    from medbill.x12.ack999 import check_999

    return check_999(text)


def _check_277ca(text: str) -> tuple[int, list[str], str]:
    from medbill.x12.ack277ca import check_277ca

    return check_277ca(text)


def _check_270(text: str) -> tuple[int, list[str], str]:
    from medbill.x12.eligibility.summary import check_270

    return check_270(text)


def _check_271(text: str) -> tuple[int, list[str], str]:
    from medbill.x12.eligibility.summary import check_271

    return check_271(text)


def _check_276(text: str) -> tuple[int, list[str], str]:
    from medbill.x12.status276 import check_276

    return check_276(text)


def _check_277(text: str) -> tuple[int, list[str], str]:
    from medbill.x12.status276 import check_277

    return check_277(text)


def _check_envelopes(text: str) -> tuple[int, list[str], str]:
    interchanges, problems = check_envelopes(text)
    return sum(len(g.transactions) for i in interchanges for g in i.groups), problems, ""


# transaction kind -> (transactions, problems, what an OK line adds)
_CHECKS: dict[str, Callable[[str], tuple[int, list[str], str]]] = {
    "835": _check_835,
    "837P": _check_837p,
    "999": _check_999,
    "277CA": _check_277ca,
    "270": _check_270,
    "271": _check_271,
    "276": _check_276,
    "277": _check_277,
}


def cmd_validate(path: str, out: TextIO) -> int:
    text = _read_text(path)
    kind = detect_kind(text)
    count, problems, verdict = _CHECKS.get(kind, _check_envelopes)(text)
    for problem in problems:
        out.write(f"{path}: {problem}\n")
    if problems:
        out.write(f"{path}: INVALID {kind}: {len(problems)} problem(s) in {count} transaction(s)\n")
        return EXIT_PROBLEMS
    out.write(f"{path}: OK {kind}: {count} transaction(s), {verdict}envelopes well formed\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medbill-x12",
        description="Summarize or validate X12 5010 files (835, 837P, 999, 277CA, 270, 271, 276, 277).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_sum = sub.add_parser("summary", help="print a JSON summary of the file")
    p_sum.add_argument("file", help="X12 file")
    p_val = sub.add_parser(
        "validate",
        help=(
            "check envelopes and content: 835 numbers and balancing; 837P numbers, structure and "
            "CLM02 = sum of SV102; 999 counts and AK9/IK5 agreement; 277CA STC04 amounts; "
            "270/271 hierarchy, loops and codes; exit 1 on problems"
        ),
    )
    p_val.add_argument("file", help="X12 file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = cmd_summary if args.command == "summary" else cmd_validate
    try:
        return command(args.file, sys.stdout)
    except BrokenPipeError:  # `medbill-x12 summary big.835 | head`: not an error
        sys.stderr.close()
        return EXIT_OK
    except CliError as exc:
        print(f"medbill-x12: error: {exc}", file=sys.stderr)
    except X12SyntaxError as exc:
        print(f"medbill-x12: error: {args.file}: {exc}", file=sys.stderr)
    except Exception as exc:  # never a traceback (and never the data: messages may carry PHI)
        print(
            f"medbill-x12: error: {args.file}: could not be read as X12 ({type(exc).__name__})",
            file=sys.stderr,
        )
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
