#!/usr/bin/env python3
"""Regenerate the small, stable code lists the scrubber ships (layers/medbill/python/medbill/data/codes/).

Sources (see ../shared/reference-data/SOURCES.txt for origin and licence):
  place_of_service.csv         <- place_of_service_taxonomy/cms_place_of_service_codes_2024-06.csv (CMS POS)
  nucc_taxonomy.csv            <- place_of_service_taxonomy/nucc_taxonomy_251.csv (NUCC v25.1)
  state_codes.csv              <- remittance_codes/pyx12_codes.xml, codeset "states" (X12 element 156)
  claim_filing_indicator.csv   <- pyx12's 837P map (837.5010.X222.A1.xml), SBR09 valid codes (X12 element 1032)

Each list's source, version, row count and SHA-256 go to codes/manifest.json; the scrubber names that
version in every finding it makes from the list.

.venv/bin/python scripts/gen_code_lists.py                         # read ../shared/reference-data
MEDBILL_REFERENCE_DATA=/path/to/reference-data .venv/bin/python scripts/gen_code_lists.py
.venv/bin/python scripts/gen_code_lists.py --check                 # exit 1 if the committed files differ
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "layers" / "medbill" / "python" / "medbill" / "data" / "codes"

# X12 element 1032 names (public code names; the valid set itself comes from pyx12's map).
SBR09_NAMES = {
    "11": "Other Non-Federal Programs",
    "12": "Preferred Provider Organization (PPO)",
    "13": "Point of Service (POS)",
    "14": "Exclusive Provider Organization (EPO)",
    "15": "Indemnity Insurance",
    "16": "Health Maintenance Organization (HMO) Medicare Risk",
    "17": "Dental Maintenance Organization",
    "AM": "Automobile Medical",
    "BL": "Blue Cross/Blue Shield",
    "CH": "Champus",
    "CI": "Commercial Insurance Co.",
    "DS": "Disability",
    "FI": "Federal Employees Program",
    "HM": "Health Maintenance Organization",
    "LM": "Liability Medical",
    "MA": "Medicare Part A",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "OF": "Other Federal Program",
    "TV": "Title V",
    "VA": "Veterans Affairs Plan",
    "WC": "Workers' Compensation Health Claim",
    "ZZ": "Mutually Defined",
}


def shared_dir() -> Path:
    env = os.environ.get("MEDBILL_REFERENCE_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "reference-data"


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def place_of_service(src: Path) -> str:
    rows = []
    with (src / "place_of_service_taxonomy" / "cms_place_of_service_codes_2024-06.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["pos_type"] != "Unassigned":
                rows.append([r["pos_code"], "Y" if r["pos_type"] == "Facility" else "N", r["pos_name"]])
    return _csv(["code", "facility", "name"], rows)


def nucc_taxonomy(src: Path) -> str:
    with (src / "place_of_service_taxonomy" / "nucc_taxonomy_251.csv").open(encoding="utf-8-sig") as f:
        rows = [[r["Code"].strip(), r["Display Name"].strip()] for r in csv.DictReader(f)]
    return _csv(["code", "display_name"], sorted(rows))


def state_codes(src: Path) -> str:
    tree = ET.parse(src / "remittance_codes" / "pyx12_codes.xml")  # noqa: S314
    for codeset in tree.getroot().iter("codeset"):
        if codeset.findtext("id") == "states":
            return _csv(["code"], [[c.text or ""] for c in codeset.iter("code")])
    raise SystemExit("pyx12_codes.xml has no 'states' codeset")


def claim_filing_indicator() -> tuple[str, str]:
    import pyx12

    path = Path(pyx12.__file__).parent / "map" / "837.5010.X222.A1.xml"
    for element in ET.parse(path).getroot().iter("element"):  # noqa: S314
        if element.get("xid") == "SBR09":
            codes = [c.text or "" for c in element.iter("code")]
            return _csv(["code", "name"], [[c, SBR09_NAMES.get(c, "")] for c in codes]), f"pyx12 {pyx12.__version__}"
    raise SystemExit("pyx12's 837P map has no SBR09")


def build(src: Path) -> dict[str, str]:
    sbr09, pyx12_version = claim_filing_indicator()
    files = {
        "place_of_service.csv": (place_of_service(src), "CMS POS 2024-06", "cms_place_of_service_codes_2024-06.csv"),
        "nucc_taxonomy.csv": (nucc_taxonomy(src), "NUCC 25.1", "nucc_taxonomy_251.csv (NUCC v25.1, 2025-07-01)"),
        "state_codes.csv": (state_codes(src), "X12 states (pyx12 codes.xml)", "pyx12_codes.xml codeset states"),
        "claim_filing_indicator.csv": (sbr09, "X12 1032 (837P 005010X222A1)", f"{pyx12_version} 837 map SBR09"),
    }
    manifest = {
        name: {
            "version": version,
            "source": source,
            "rows": text.count("\n") - 1,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }
        for name, (text, version, source) in files.items()
    }
    out = {name: text for name, (text, _, _) in files.items()}
    out["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = parser.parse_args()
    src = shared_dir()
    if not src.is_dir():
        print(f"reference data not found at {src}; set MEDBILL_REFERENCE_DATA", file=sys.stderr)
        return 2
    stale = []
    for name, text in build(src).items():
        path = OUT / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
