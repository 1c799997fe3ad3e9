"""SVC -> claim line matching: REF*6R, code + modifiers + date, SVC06 original code, splits, misses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from medbill.billing.matching import match_lines
from medbill.models.claim import Claim, ClaimLine
from medbill.models.remittance import RemitLine
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter

D = Decimal
DOS = "20261102"


def _claim(*lines: tuple[str, list[str], str]) -> Claim:
    claim = new_claim(make_encounter(date_of_service=date(2026, 11, 2).isoformat()), "encounters/x.json", 1)
    claim_lines = [
        ClaimLine.model_validate(
            {
                "procedure_code": code,
                "modifiers": mods,
                "diagnosis_pointers": [1],
                "charge": charge,
                "line_number": n,
                "line_control_number": f"LCN{n}",
            }
        )
        for n, (code, mods, charge) in enumerate(lines, start=1)
    ]
    return claim.model_copy(update={"lines": claim_lines})


def svc(code: str, charge: str, paid: str, *, mods: list[str] | None = None, **kw: object) -> RemitLine:
    return RemitLine.model_validate(
        {"procedure_code": code, "modifiers": mods or [], "charge": charge, "paid": paid, **kw}
    )


def _got(claim: Claim, lines: list[RemitLine], dos: str | None = None) -> list[tuple[int | None, str]]:
    return [(lp.claim_line_number, lp.match) for lp in match_lines(claim, lines, dos)]


def test_control_number_wins_over_code_and_date() -> None:
    claim = _claim(("99213", ["25"], "120.00"), ("99213", [], "100.00"))
    # REF*6R names line 2 although the code and modifiers look like line 1; the date is even wrong.
    lines = [svc("99213", "100.00", "80.00", mods=["25"], control_number="LCN2", service_date="19990101")]
    assert _got(claim, lines) == [(2, "control_number")]


def test_code_modifiers_and_date() -> None:
    claim = _claim(("99213", ["25"], "120.00"), ("99213", [], "100.00"), ("36415", [], "30.00"))
    lines = [
        svc("36415", "30.00", "20.00", service_date=DOS),
        svc("99213", "100.00", "80.00", service_date=DOS),  # no modifier: line 2, not line 1
        svc("99213", "120.00", "90.00", mods=["25"], service_date=DOS),
    ]
    assert _got(claim, lines) == [(3, "code_and_date"), (2, "code_and_date"), (1, "code_and_date")]


def test_modifier_order_does_not_matter_and_the_claim_date_stands_in_for_a_line_date() -> None:
    claim = _claim(("H0005", ["HF", "H9"], "56.70"))
    assert _got(claim, [svc("H0005", "56.70", "56.52", mods=["H9", "HF"])], DOS) == [(1, "code_and_date")]
    assert _got(claim, [svc("H0005", "56.70", "56.52", mods=["HF", "H9"])]) == [(1, "code_and_date")]  # DOS


def test_another_date_of_service_does_not_match() -> None:
    claim = _claim(("99213", [], "100.00"))
    assert _got(claim, [svc("99213", "100.00", "80.00", service_date="20261103")]) == [(None, "unmatched")]
    assert _got(claim, [svc("99213", "100.00", "80.00")], "20261031") == [(None, "unmatched")]


def test_svc06_original_code_when_the_payer_changed_it() -> None:
    claim = _claim(("99214", [], "150.00"), ("36415", [], "30.00"))
    lines = [
        svc("99213", "150.00", "90.00", original_procedure_code="99214", service_date=DOS),
        svc("G0471", "30.00", "10.00", original_procedure_code="36415", service_date=DOS),
    ]
    assert _got(claim, lines) == [(1, "original_code"), (2, "original_code")]


def test_split_line_lands_both_svcs_on_one_line() -> None:
    claim = _claim(("97110", [], "200.00"), ("99213", [], "100.00"))
    lines = [
        svc("97110", "100.00", "60.00", units=D(2), service_date=DOS),
        svc("97110", "100.00", "0.00", units=D(2), service_date=DOS),
        svc("99213", "100.00", "80.00", service_date=DOS),
    ]
    got = match_lines(claim, lines)
    assert [(lp.claim_line_number, lp.match) for lp in got] == [
        (1, "code_and_date"),
        (1, "code_and_date"),
        (2, "code_and_date"),
    ]
    assert sum((lp.paid for lp in got if lp.claim_line_number == 1), D(0)) == D("60.00")


def test_two_lines_with_one_code_are_filled_in_turn() -> None:
    claim = _claim(("J1100", [], "10.00"), ("J1100", [], "10.00"))
    lines = [svc("J1100", "10.00", "8.00", service_date=DOS), svc("J1100", "10.00", "8.00", service_date=DOS)]
    assert _got(claim, lines) == [(1, "code_and_date"), (2, "code_and_date")]


def test_unmatched_svc_is_kept_with_its_money() -> None:
    claim = _claim(("99213", [], "100.00"))
    lines = [
        svc("99213", "100.00", "80.00", service_date=DOS),
        svc("81002", "12.00", "9.50", service_date=DOS, control_number="NOT-OURS", allowed=D("9.50")),
    ]
    got = match_lines(claim, lines)
    assert [(lp.claim_line_number, lp.match) for lp in got] == [(1, "code_and_date"), (None, "unmatched")]
    assert (got[1].procedure_code, got[1].charge, got[1].paid, got[1].allowed) == (
        "81002",
        D("12.00"),
        D("9.50"),
        D("9.50"),
    )
