#!/usr/bin/env python3
"""Derive the demo clinics' fee schedules from the CMS 2025 Physician Fee Schedule (RVU file).

charge = non-facility total RVU x conversion factor (32.3465 for 2025, read from the file) x clinic
markup, rounded to whole dollars (clinics charge round amounts above what payers allow).

Codes the PFS does not price with RVUs (clinical labs, vaccines, drugs: status X/E) get a demo base
amount x markup: these bases are ours, not CMS figures.

Reads the shared RVU file in place (it stays in ../shared); writes only the small per-clinic CSVs to
layers/medbill/python/medbill/data/fee_schedules/. `--check` exits 1 if the committed files differ.

    .venv/bin/python scripts/derive_fee_schedule.py [--rvu-file PATH] [--check]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RVU_FILE = ROOT.parent / "shared" / "reference-data" / "fee_schedule" / "PPRRVU2025_Oct_codes_numbers_only.csv"
OUT_DIR = ROOT / "layers" / "medbill" / "python" / "medbill" / "data" / "fee_schedules"
CONVERSION_FACTOR_2025 = Decimal("32.3465")

# Common office codes (numbers only: CPT descriptors are AMA-licensed and never shipped).
PFS_CODES = [
    *[f"9920{i}" for i in range(2, 6)],  # new patient E/M
    *[f"9921{i}" for i in range(1, 6)],  # established patient E/M
    "99385", "99386", "99395", "99396",  # preventive visits (PFS status N: RVUs but not Medicare-covered)
    "G0438", "G0439", "G2211",  # Medicare annual wellness visits, visit complexity add-on
    "93000", "71046", "73030",  # ECG, chest and shoulder X-ray (with 26 / TC rows)
    "90471", "96372", "96127", "99406", "94640",  # administration, screening, counselling, nebulizer
    "20610", "11102", "17110", "10060", "12001", "69210",  # minor procedures
    "97110", "97140",  # therapy
]  # fmt: skip
PRICING_MODIFIERS = {"26", "TC"}  # professional / technical component rows from the RVU file

# Not priced by RVUs in the PFS: demo base amounts (NOT CMS figures), times the clinic markup.
NON_PFS_BASE = {
    "36415": Decimal("10"),  # venipuncture (lab fee schedule)
    "80053": Decimal("30"),
    "80061": Decimal("35"),
    "83036": Decimal("25"),
    "85025": Decimal("20"),
    "81002": Decimal("8"),
    "87880": Decimal("30"),
    "90686": Decimal("40"),  # influenza vaccine product
    "90715": Decimal("45"),  # Tdap vaccine product
    "J1100": Decimal("5"),
    "J3301": Decimal("12"),
}


@dataclass
class Clinic:
    clinic_id: str
    markup: Decimal
    exclude: frozenset[str] = frozenset()
    # (code, payer_id) -> markup: a payer-specific charge (demonstrates code+payer precedence).
    payer_markups: dict[tuple[str, str], Decimal] = field(default_factory=dict)


CLINICS = [
    Clinic("clinic-northside", Decimal("1.5")),
    Clinic(
        "clinic-lakeview",
        Decimal("1.8"),
        exclude=frozenset({"97110", "97140", "69210"}),  # no therapy or ear lavage at this clinic
        payer_markups={("99213", "PAYERC03"): Decimal("1.6"), ("99214", "PAYERC03"): Decimal("1.6")},
    ),
]


def whole_dollars(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def read_rvus(path: Path) -> dict[tuple[str, str], Decimal]:
    """(code, modifier) -> non-facility total RVU x conversion factor, for the codes we use."""
    wanted = set(PFS_CODES)
    out: dict[tuple[str, str], Decimal] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code, mod = row["hcpcs"].strip(), row["mod"].strip()
            if code not in wanted or (mod and mod not in PRICING_MODIFIERS):
                continue
            cf = Decimal(row["conv_factor"])
            if cf != CONVERSION_FACTOR_2025:
                raise SystemExit(f"{code}: conversion factor {cf}, expected {CONVERSION_FACTOR_2025}")
            total = Decimal(row["non_facility_total"])
            if total > 0:
                out[(code, mod)] = total * cf
    missing = wanted - {code for code, _ in out}
    if missing:
        raise SystemExit(f"no non-facility RVUs in {path} for: {', '.join(sorted(missing))}")
    return out


def schedule_csv(clinic: Clinic, national: dict[tuple[str, str], Decimal]) -> str:
    rows: list[tuple[str, str, str, Decimal]] = []
    for (code, mod), allowed in national.items():
        if code not in clinic.exclude:
            rows.append((code, mod, "", whole_dollars(allowed * clinic.markup)))
    for code, base in NON_PFS_BASE.items():
        if code not in clinic.exclude:
            rows.append((code, "", "", whole_dollars(base * clinic.markup)))
    for (code, payer), markup in clinic.payer_markups.items():
        rows.append((code, "", payer, whole_dollars(national[(code, "")] * markup)))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["procedure_code", "modifier", "payer_id", "amount"])
    writer.writerows((code, mod, payer, f"{amount:.2f}") for code, mod, payer, amount in rows)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rvu-file", type=Path, default=DEFAULT_RVU_FILE)
    parser.add_argument("--check", action="store_true", help="fail if the committed schedules are stale")
    args = parser.parse_args(argv)
    if not args.rvu_file.is_file():
        print(f"RVU file not found: {args.rvu_file}", file=sys.stderr)
        return 2
    national = read_rvus(args.rvu_file)
    stale = []
    for clinic in CLINICS:
        text = schedule_csv(clinic, national)
        path = OUT_DIR / f"{clinic.clinic_id}.csv"
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)} ({text.count(chr(10)) - 1} rows)")
    if stale:
        print("stale (run scripts/derive_fee_schedule.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
