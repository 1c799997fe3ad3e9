"""Insurance verification behind a small protocol.

The production adapter will send an X12 270 through the clearinghouse and read the 271; the local
adapter answers from a payer fixture (member id -> active / inactive / copay), so the demo and the
tests exercise the same decision logic.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from medbill.models.eligibility import EligibilityResult


class FixtureEligibilityGateway:
    """Answers from a JSON fixture: {payer_id: {member_id: {active, copay, deductible_remaining, plan}}}."""

    def __init__(self, fixture: dict[str, dict[str, dict[str, Any]]]) -> None:
        self._fixture = fixture

    @classmethod
    def load(cls, path: str | None = None) -> FixtureEligibilityGateway:
        if path:
            text = Path(path).read_text()
        else:
            text = resources.files("medbill.data").joinpath("eligibility_fixture.json").read_text()
        return cls(json.loads(text))

    def check(self, payer_id: str, member_id: str, date_of_service: date) -> EligibilityResult:
        payer = self._fixture.get(payer_id)
        if payer is None:
            return EligibilityResult(active=False, reason="payer_not_found")
        member = payer.get(member_id)
        if member is None:
            return EligibilityResult(active=False, reason="member_not_found")
        if not member.get("active", False):
            return EligibilityResult(active=False, reason="coverage_inactive", plan=member.get("plan"))
        return EligibilityResult(
            active=True,
            copay=_money(member.get("copay")),
            deductible_remaining=_money(member.get("deductible_remaining")),
            plan=member.get("plan"),
        )


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
