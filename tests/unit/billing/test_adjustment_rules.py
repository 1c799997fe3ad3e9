"""Adjustment rules as data (issue 10, item 1): the action for every group over the CARCs that
denial statistics list most often, the RARCs that change an action, and the table's invariants."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medbill.billing.adjustment_rules import BadRulesTable, parse_rules, rule_for, rules
from medbill.billing.followup import Context, decide
from medbill.billing.ledger import outcome_of
from medbill.models.claim import Adjustment, Claim
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter
from tests.shared_data import require_files

D = Decimal
HEADER = "group,carc,rarc,scenario,action,category,expected,note\n"

# The CARCs that denial statistics list most often (payer/clearinghouse denial reports, CMS top
# denial reasons), each with the action for CO, OA and PI (one value: the same for all three).
# "paid": an expected contractual reduction, the claim is paid as expected.
# A short-paid claim (50.00 paid of 100.00): "review" shows as review_underpayment.
TOP_CARCS: dict[str, str | tuple[str, str, str]] = {
    "1": "review_underpayment",  # deductible under a non-PR group: the payer must fix the group
    "2": "review_underpayment",
    "3": "review_underpayment",
    "4": "correct_and_resubmit",
    "5": "correct_and_resubmit",
    "6": "correct_and_resubmit",
    "11": "correct_and_resubmit",
    "16": "correct_and_resubmit",
    "18": "review_underpayment",
    "22": "rebill_other_payer",
    "23": "review_underpayment",
    "24": "paid",
    "26": "rebill_other_payer",
    "27": "rebill_other_payer",
    "29": "write_off",  # no proof of timely filing on this claim
    "31": "correct_and_resubmit",
    "32": "correct_and_resubmit",
    "45": "paid",
    "49": "write_off",
    "50": "appeal",
    "51": "write_off",
    "55": "appeal",
    "59": "paid",
    "96": "appeal",
    "97": "write_off",
    "100": ("review_underpayment", "bill_patient", "review_underpayment"),  # the payer paid the patient
    "107": "correct_and_resubmit",
    "109": "rebill_other_payer",
    "119": "write_off",
    "129": "correct_and_resubmit",
    "131": "paid",
    "140": "correct_and_resubmit",
    "146": "correct_and_resubmit",
    "150": "appeal",
    "151": "appeal",
    "167": "write_off",
    "170": "write_off",
    "181": "correct_and_resubmit",
    "182": "correct_and_resubmit",
    "185": "correct_and_resubmit",
    "189": "correct_and_resubmit",
    "197": "appeal",
    "198": "appeal",
    "204": "write_off",
    "226": "appeal",
    "234": "write_off",
    "236": "correct_and_resubmit",
    "242": "write_off",
    "252": "appeal",
    "253": "paid",
    "256": "write_off",
    "B7": "review_underpayment",
    "B9": "rebill_other_payer",
    "B15": "write_off",
    "B16": "correct_and_resubmit",
    "A1": "review_underpayment",
}
CATEGORY = {"29": "timely_filing", "49": "non_covered", "51": "non_covered", "97": "bundled", "119": "non_covered"}
CATEGORY |= {"167": "non_covered", "170": "non_covered", "204": "non_covered", "234": "bundled", "242": "non_covered"}
CATEGORY |= {"256": "non_covered", "B15": "bundled"}
GROUPS = ("CO", "OA", "PI")


def _claim(paid: str, *adjs: tuple[str, str, str], filing: str = "CI") -> Claim:
    enc = make_encounter(
        coverage={
            "payer_id": "PAYERA01",
            "payer_name": "TEST PAYER",
            "member_id": "M1",
            "claim_filing_indicator": filing,
        }
    )
    adjustments = [Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in adjs]  # type: ignore[arg-type]
    return new_claim(enc, "encounters/x.json", 1).model_copy(
        update={
            "total_charge": D("100.00"),
            "paid_amount": D(paid),
            "adjustments": adjustments,
            "patient_responsibility": sum((a.amount for a in adjustments if a.group == "PR"), D("0.00")),
            "adjustment_amount": sum((a.amount for a in adjustments if a.group != "PR"), D("0.00")),
        }
    )


def _route(claim: Claim, ctx: Context | None = None) -> tuple[str, str | None, Decimal]:
    outcome = outcome_of("payment", claim.adjustments, claim.paid_amount)
    if outcome == "paid":
        return "paid", None, D("0.00")
    decided = decide(claim, outcome or "review", ctx)
    return decided.action, decided.category, decided.amount


def test_at_least_forty_of_the_most_frequent_carcs_are_covered() -> None:
    assert len(TOP_CARCS) >= 40
    assert all((g, c, "") in rules() or ("*", c, "") in rules() for c in TOP_CARCS for g in GROUPS)


@pytest.mark.parametrize("carc", sorted(TOP_CARCS))
@pytest.mark.parametrize("group", GROUPS)
def test_action_by_group_and_carc(group: str, carc: str) -> None:
    want = TOP_CARCS[carc]
    expected = want if isinstance(want, str) else want[GROUPS.index(group)]
    action, category, amount = _route(_claim("50.00", (group, carc, "50.00")))
    assert action == expected
    assert category == (CATEGORY.get(carc) if action == "write_off" else None)
    assert amount == (D("0.00") if action == "paid" else D("50.00"))


@pytest.mark.parametrize("carc", sorted(TOP_CARCS))
def test_patient_responsibility_goes_to_the_next_payer_else_the_patient(carc: str) -> None:
    claim = _claim("50.00", ("PR", carc, "50.00"))
    assert _route(claim) == ("bill_patient", None, D("50.00"))
    assert _route(claim, Context(next_payer="PAYERB02")) == ("bill_secondary", None, D("50.00"))


def test_medicare_contractual_sequestration_and_coinsurance_bills_the_patient_exactly_the_pr() -> None:
    # A real Medicare 835 line: allowed 120.00, paid 94.08 (80% less 2% sequestration), PR-2 24.00.
    claim = _claim("94.08", ("CO", "45", "30.00"), ("CO", "253", "1.92"), ("PR", "2", "24.00"), filing="MB")
    claim = claim.model_copy(update={"total_charge": D("150.00")})
    assert outcome_of("payment", claim.adjustments, claim.paid_amount) == "short_paid"
    decided = decide(claim, "short_paid")
    assert (decided.action, decided.amount) == ("bill_patient", D("24.00"))
    assert decided.reason == "patient responsibility 24.00: CO-45 30.00; CO-253 1.92; PR-2 24.00"
    # Without the PR it is paid as expected: CO-253 is no underpayment.
    assert outcome_of("payment", claim.adjustments[:2], D("118.08")) == "paid"


def test_remark_codes_change_the_action_where_the_table_says_so() -> None:
    def action(carc: str, *remarks: str) -> str:
        return decide(_claim("0.00", ("CO", carc, "100.00")), "denied", Context(remarks=remarks)).action

    assert (action("96"), action("96", "N425")) == ("appeal", "write_off")
    assert (action("50"), action("50", "N115"), action("50", "N211")) == ("appeal", "appeal", "write_off")
    assert (action("22"), action("22", "MA04")) == ("rebill_other_payer", "correct_and_resubmit")
    assert (action("97"), action("97", "M86")) == ("write_off", "review_denial")


def test_timely_filing_denial_appeals_only_with_proof_of_filing() -> None:
    claim = _claim("0.00", ("CO", "29", "100.00"))
    lost = decide(claim, "denied", Context(filed_in_time=False))
    assert (lost.action, lost.category, lost.amount) == ("write_off", "timely_filing", D("100.00"))
    proven = decide(claim, "denied", Context(filed_in_time=True, adjudicated_on=date(2026, 11, 2)))
    assert (proven.action, proven.due) == ("appeal", date(2027, 5, 1))  # commercial: 180 days


def test_appeal_deadline_comes_from_the_payer_configuration() -> None:
    medicare = _claim("0.00", ("CO", "50", "100.00"), filing="MB")
    assert decide(medicare, "denied", Context(adjudicated_on=date(2026, 11, 2))).due == date(2027, 3, 2)  # 120 days


def test_the_most_urgent_action_decides_and_the_money_at_stake_is_all_of_it() -> None:
    claim = _claim("0.00", ("CO", "97", "20.00"), ("CO", "50", "30.00"), ("CO", "16", "50.00"))
    decided = decide(claim, "denied")
    assert (decided.action, decided.amount) == ("correct_and_resubmit", D("100.00"))


def test_a_denial_with_only_the_patients_share_bills_the_patient() -> None:
    assert decide(_claim("0.00", ("PR", "204", "100.00")), "denied").action == "bill_patient"


CO_CARCS = sorted({c for _, c, _ in rules()} | set(TOP_CARCS) | {"B8", "P1", "ZZ9"})


@given(
    st.lists(st.tuples(st.sampled_from(CO_CARCS), st.decimals("0.01", "500.00", places=2)), min_size=1, max_size=5),
    st.sampled_from(["denied", "short_paid"]),
    st.booleans(),
)
def test_a_contractual_only_claim_is_never_billed_to_the_patient(
    adjs: list[tuple[str, Decimal]], outcome: str, filed: bool
) -> None:
    claim = _claim("0.00", *(("CO", carc, str(amount)) for carc, amount in adjs))
    assert decide(claim, outcome, Context(filed_in_time=filed, remarks=("N425", "MA04"))).action != "bill_patient"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("CO,27,,eligibility,bill_patient,,0,x", "never billed to the patient"),
        ("*,27,,eligibility,bill_patient,,0,x", "never billed to the patient"),
        ("PR,2,,x,bill_patient,,0,x", "PR is always the patient's share"),
        ("*,45,,contractual,appeal,,1,x", "expected reduction is a contractual write-off"),
        ("*,97,,x,write_off,,0,x", "names its category"),
        ("*,97,,x,fly,,0,x", "unknown action"),
    ],
)
def test_the_table_refuses_rules_that_break_its_invariants(row: str, problem: str) -> None:
    with pytest.raises(BadRulesTable, match=problem):
        parse_rules(HEADER + row + "\n")


def test_every_code_in_the_table_is_a_current_x12_code() -> None:
    (path,) = require_files("reference-data", "remittance_codes/x12_adjustment_group_carc_rarc_2024-06.csv")
    with path.open(encoding="utf-8") as f:
        codes = {(r["adj_type"], r["adj_code"]): r["adj_end_date"] for r in csv.DictReader(f)}
    for _group, carc, rarc in rules():
        assert codes.get(("CARC", carc)) == "", f"CARC {carc} unknown or stopped"
        if rarc:
            assert codes.get(("RARC", rarc)) == "", f"RARC {rarc} unknown or stopped"
    for carc in TOP_CARCS:
        assert codes.get(("CARC", carc)) == "", f"CARC {carc} unknown or stopped"


def test_rule_lookup_prefers_the_group_and_the_remark() -> None:
    assert rule_for("OA", "100").action == "bill_patient" and rule_for("CO", "100").action == "review"
    assert rule_for("PR", "45").action == "bill_patient"
    assert rule_for("CO", "ZZ9").action == "review"
