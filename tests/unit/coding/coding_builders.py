"""Shared by the coding tests: encounters to scrub, quarterly files written on the fly, and the shared
reference data (../shared/reference-data or $MEDBILL_REFERENCE_DATA, read in place; else skip)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medbill.billing.fees import FeeSchedule
from medbill.coding import CodingReferences, scrub
from medbill.coding.findings import Finding
from medbill.models.encounter import Encounter
from tests.factories import encounter_dict, make_encounter
from tests.shared_data import FOLDERS, require_dir

REPO_ROOT = Path(__file__).resolve().parents[3]
REFERENCE_ENV = FOLDERS["reference-data"]
PACKAGED = CodingReferences.packaged()

# Every code of the base encounter is on it, for any payer.
SCHEDULE = FeeSchedule.from_csv_text(
    "clinic-test",
    "procedure_code,modifier,payer_id,amount\n"
    + "".join(
        f"{c},,,10\n"
        for c in (
            *("99213", "99214", "36415", "20610", "20611", "93000", "93005", "00790", "00100", "01999"),
            *("J3301", "G0439", "G0438", "G9999", "Q4333", "Q5999", "A4397", "A4466"),
        )
    ),
)


def reference_data() -> Path:
    """The shared reference-data folder, or skip with where we looked."""
    return require_dir("reference-data")


def lines(*specs: tuple[str, list[str], Any]) -> list[dict[str, Any]]:
    return [{"procedure_code": c, "modifiers": m, "units": str(u), "diagnosis_pointers": [1]} for c, m, u in specs]


def encounter(*specs: tuple[str, list[str], Any], **overrides: Any) -> Encounter:
    """The canary encounter (no rendering provider address, POS 11), with these service lines."""
    if specs:
        overrides["service_lines"] = lines(*specs)
    return make_encounter(**overrides)


def encounter_data(**overrides: Any) -> dict[str, Any]:
    return encounter_dict(**overrides)


def write_quarter(
    folder: Path, *, ptp: str | None = None, mue: str | None = None, hcpcs: str | None = None, stamp: str = "2024-07-01"
) -> Path:
    """A reference directory with the given CSV bodies, named as CMS's quarter `stamp`."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, body in (("ptp", ptp), ("mue_practitioner", mue), ("hcpcs", hcpcs)):
        if body is not None:
            (folder / f"ncci_{kind}_{stamp}.csv" if kind != "hcpcs" else folder / f"hcpcs_{stamp}.csv").write_text(body)
    return folder


def quarter_refs(tmp_path: Path, **bodies: str) -> CodingReferences:
    return CodingReferences.from_directory(write_quarter(tmp_path / "refdata", **bodies))


def holds(enc: Encounter, refs: CodingReferences = PACKAGED, schedule: FeeSchedule | None = SCHEDULE) -> list[str]:
    return scrub(enc, refs, schedule).reasons


def found(
    enc: Encounter, rule_id: str, refs: CodingReferences = PACKAGED, schedule: FeeSchedule | None = SCHEDULE
) -> list[Finding]:
    return [f for f in scrub(enc, refs, schedule).findings if f.rule_id == rule_id]
