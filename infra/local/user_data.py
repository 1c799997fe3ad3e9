"""Your own fee schedules, payers and members for the local runtime, added to the packaged ones.

`MEDBILL_LOCAL_DATA=<folder>` (read by `make local`; in code `LocalRuntime(user_data=prepare(folder))`),
any of:

    <folder>/fee_schedules/<clinic_id>.csv   a clinic's fee schedule (columns procedure_code, modifier,
                                             payer_id, amount, as medbill/data/fee_schedules/); the packaged clinics
                                             stay, a file for a packaged clinic replaces its schedule
    <folder>/payer_rules.json                the payer simulator's adjudication: {"payers": {id: {...}},
                                             "scenarios": {...}} (infra/local/payer_rules.json's shape);
                                             your payers are added, one with a packaged id replaces it;
                                             scenario member ids are added
    <folder>/payer_members.json              eligibility answers: {"members": {payer: {member id: {...}}},
                                             "plans": {payer: {...}}} (infra/local/payer_members.json's
                                             shape); added per payer and member

Everything is checked when the runtime starts: a file that does not parse stops it with the file's
name and what is wrong (never its contents). The merged copies live in a temporary folder for the
life of the runtime; the packaged files are never changed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from infra.local.payer_eligibility import MEMBERS_PATH
from infra.local.payer_rules import RULES_PATH, load_rules
from medbill.billing.fees import FeeSchedule, FeeScheduleError

__all__ = ["LOCAL_DATA_ENV", "UserData", "UserDataError", "prepare"]

LOCAL_DATA_ENV = "MEDBILL_LOCAL_DATA"


class UserDataError(ValueError):
    """A user-supplied file cannot be used: names the file and the problem."""


@dataclass(frozen=True)
class UserData:
    fee_schedule_dir: Path  # packaged schedules + the user's (FEE_SCHEDULE_DIR)
    rules_path: Path  # payer_rules.json merged
    members_path: Path  # payer_members.json merged
    workdir: Path
    added_clinics: tuple[str, ...] = ()
    added_payers: tuple[str, ...] = ()

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def _json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserDataError(
            f"{path}: not readable JSON ({type(err).__name__}: line {getattr(err, 'lineno', '?')})"
        ) from None
    if not isinstance(doc, dict):
        raise UserDataError(f"{path}: expected a JSON object at the top")
    return doc


def _section(doc: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise UserDataError(f"{path}: {name!r} must be an object")
    return value


def _merge_rules(packaged: dict[str, Any], mine: dict[str, Any], path: Path) -> dict[str, Any]:
    merged = json.loads(json.dumps(packaged))
    merged["payers"].update(_section(mine, "payers", path))
    scenarios = merged.setdefault("scenarios", {})
    for name, value in _section(mine, "scenarios", path).items():
        if name.startswith("_"):
            continue
        if isinstance(value, list):
            scenarios[name] = sorted({*scenarios.get(name, []), *value})
        elif isinstance(value, dict):
            scenarios[name] = {**scenarios.get(name, {}), **value}
        else:
            raise UserDataError(f"{path}: scenarios.{name} must be a list or an object")
    return merged


def _merge_members(packaged: dict[str, Any], mine: dict[str, Any], path: Path) -> dict[str, Any]:
    merged = json.loads(json.dumps(packaged))
    for payer, members in _section(mine, "members", path).items():
        if not isinstance(members, dict):
            raise UserDataError(f"{path}: members.{payer} must be an object of member id -> answer")
        merged.setdefault("members", {}).setdefault(payer, {}).update(members)
    merged.setdefault("plans", {}).update(_section(mine, "plans", path))
    return merged


def prepare(folder: Path) -> UserData:
    """Merge `folder`'s files over the packaged ones into a temporary folder; UserDataError if bad."""
    if not folder.is_dir():
        raise UserDataError(f"{LOCAL_DATA_ENV}={folder}: not a folder")
    work = Path(tempfile.mkdtemp(prefix="medbill-local-data-"))
    try:
        fees = work / "fee_schedules"
        packaged = resources.files("medbill").joinpath("data", "fee_schedules")
        fees.mkdir()
        for ref in packaged.iterdir():
            if ref.name.endswith(".csv"):
                (fees / ref.name).write_bytes(ref.read_bytes())
        clinics = []
        for csv in sorted((folder / "fee_schedules").glob("*.csv")) if (folder / "fee_schedules").is_dir() else []:
            try:
                FeeSchedule.from_csv_text(csv.stem, csv.read_text(encoding="utf-8-sig"), str(csv))
            except (FeeScheduleError, UnicodeDecodeError) as err:
                raise UserDataError(str(err)) from None
            shutil.copyfile(csv, fees / csv.name)
            clinics.append(csv.stem)
        rules_doc = _json(RULES_PATH)
        mine_rules = folder / "payer_rules.json"
        if mine_rules.is_file():
            rules_doc = _merge_rules(rules_doc, _json(mine_rules), mine_rules)
        rules_path = work / "payer_rules.json"
        rules_path.write_text(json.dumps(rules_doc, indent=1))
        try:
            payers = load_rules(rules_path)
        except (KeyError, ValueError, ArithmeticError) as err:
            raise UserDataError(
                f"{mine_rules}: a payer is missing or has a bad field ({type(err).__name__}: {err})"
            ) from None
        members_doc = _json(MEMBERS_PATH)
        mine_members = folder / "payer_members.json"
        if mine_members.is_file():
            members_doc = _merge_members(members_doc, _json(mine_members), mine_members)
        members_path = work / "payer_members.json"
        members_path.write_text(json.dumps(members_doc, indent=1))
        added = sorted(set(payers) - set(load_rules()))
        return UserData(fees, rules_path, members_path, work, tuple(clinics), tuple(added))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def from_environment() -> UserData | None:
    folder = os.environ.get(LOCAL_DATA_ENV, "").strip()
    return prepare(Path(folder).expanduser()) if folder else None
