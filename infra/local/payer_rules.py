"""The payer simulator's rules: what each payer allows, its copay, deductible, coinsurance and denials.

Read from `payer_rules.json` (money and percentages as strings, read as Decimal); how they are
applied is `payer_adjudication.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

RULES_PATH = Path(__file__).with_name("payer_rules.json")


@dataclass(frozen=True)
class Denial:
    group: str  # CAS01: CO, PR, ...
    carc: str  # claim adjustment reason code
    rarc: str | None  # remark code, sent as LQ*HE


@dataclass(frozen=True)
class PayerRules:
    payer_id: str
    name: str
    tin: str
    filing_indicator: str
    allowed_percent: Decimal
    copay: Decimal
    copay_codes: tuple[tuple[str, str], ...]  # inclusive ranges of procedure codes
    deductible: Decimal
    coinsurance_percent: Decimal
    denials: dict[str, Denial]  # procedure code -> denial

    def copay_applies(self, code: str) -> bool:
        return self.copay > 0 and any(lo <= code <= hi and len(code) == len(lo) for lo, hi in self.copay_codes)


def _ranges(items: Iterable[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        lo, _, hi = item.partition("-")
        out.append((lo, hi or lo))
    return tuple(out)


def load_rules(path: Path | None = None) -> dict[str, PayerRules]:
    raw = json.loads((path or RULES_PATH).read_text())
    rules: dict[str, PayerRules] = {}
    for payer_id, r in raw["payers"].items():
        copay = r.get("copay") or {}
        rules[payer_id] = PayerRules(
            payer_id=payer_id,
            name=r["name"],
            tin=r["tin"],
            filing_indicator=r.get("filing_indicator", "CI"),
            allowed_percent=Decimal(r["allowed_percent"]),
            copay=Decimal(copay.get("amount", "0")),
            copay_codes=_ranges(copay.get("procedure_codes", [])),
            deductible=Decimal(r.get("deductible", "0")),
            coinsurance_percent=Decimal(r.get("coinsurance_percent", "0")),
            denials={
                code: Denial(d.get("group", "CO"), str(d["carc"]), d.get("rarc"))
                for code, d in r.get("denials", {}).items()
            },
        )
    return rules
