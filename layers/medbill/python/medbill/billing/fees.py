"""Clinic fee schedules: what the clinic charges for a procedure code, per modifier and payer.

A schedule is a CSV file per clinic with columns `procedure_code, modifier, payer_id, amount`
(blank modifier / payer_id = any). The most specific row wins:
code+modifier+payer > code+modifier > code+payer > code. Amounts are Decimal, never float.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path

from medbill.models.common import CENT
from medbill.models.encounter import PROCEDURE_CODE, Encounter

COLUMNS = ("procedure_code", "modifier", "payer_id", "amount")
_CLINIC_ID = re.compile(r"^[A-Za-z0-9_-]{1,30}$")  # same rule as Encounter.clinic_id; also blocks "../"
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


class FeeScheduleError(Exception):
    """A fee schedule is missing or malformed, or a line cannot be priced. Messages name codes only."""


class FeeScheduleNotFound(FeeScheduleError, LookupError):
    pass


class UnpricedLine(FeeScheduleError):
    def __init__(self, line_number: int, procedure_code: str, clinic_id: str) -> None:
        super().__init__(f"line {line_number}: {procedure_code} is not on clinic {clinic_id}'s fee schedule")
        self.line_number = line_number
        self.procedure_code = procedure_code


@dataclass(frozen=True)
class FeeRow:
    procedure_code: str
    modifier: str | None
    payer_id: str | None
    amount: Decimal


@dataclass(frozen=True)
class PricedLine:
    line_number: int  # 1-based, as in the encounter
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal
    unit_fee: Decimal | None  # None when the encounter carried its own charge
    charge: Decimal
    source: str  # "encounter" (clinic-supplied charge) or "fee_schedule"


@dataclass(frozen=True)
class PricedClaim:
    clinic_id: str
    encounter_id: str
    payer_id: str
    lines: tuple[PricedLine, ...]
    total_charge: Decimal

    @property
    def line_charges(self) -> tuple[Decimal, ...]:
        """Charge per service line, in encounter order."""
        return tuple(line.charge for line in self.lines)

    @property
    def total(self) -> Decimal:
        return self.total_charge


def _key(code: str, modifier: str | None, payer_id: str | None) -> tuple[str, str | None, str | None]:
    return (code, modifier, payer_id)


class FeeSchedule:
    def __init__(self, clinic_id: str, rows: Iterable[FeeRow]) -> None:
        self.clinic_id = clinic_id
        self._rows: dict[tuple[str, str | None, str | None], Decimal] = {}
        self._codes: set[str] = set()
        for row in rows:
            key = _key(row.procedure_code, row.modifier, row.payer_id)
            if key in self._rows:
                raise FeeScheduleError(
                    f"clinic {clinic_id}: {row.procedure_code} modifier {row.modifier or '(any)'} "
                    f"payer {row.payer_id or '(any)'} is listed twice"
                )
            self._rows[key] = row.amount
            self._codes.add(row.procedure_code)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().upper() in self._codes

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self._codes)

    # ---- loading ----

    @classmethod
    def load(cls, clinic_id: str, directory: str | Path | None = None) -> FeeSchedule:
        """`<directory>/<clinic_id>.csv`, or the packaged demo schedule when directory is None."""
        return _load_cached(clinic_id, None if directory is None else str(directory))

    @staticmethod
    def clear_cache() -> None:
        """Forget loaded schedules (they are cached per clinic + directory for the life of the process)."""
        _load_cached.cache_clear()

    @classmethod
    def from_csv_text(cls, clinic_id: str, text: str, source: str = "fee schedule") -> FeeSchedule:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise FeeScheduleError(f"{source}: missing column(s) {', '.join(missing)}")
        reader.fieldnames = header
        rows = []
        for n, raw in enumerate(reader, start=2):  # line 1 is the header
            rows.append(_parse_row(raw, f"{source} line {n}"))
        return cls(clinic_id, rows)

    # ---- pricing ----

    def price(self, code: str, modifiers: Sequence[str] = (), payer_id: str | None = None) -> Decimal | None:
        """The unit fee for `code` billed with `modifiers` to `payer_id`, or None if not on the schedule."""
        code = code.strip().upper()
        mods = [m.strip().upper() for m in modifiers]
        # The first of the line's modifiers that has its own row decides (pricing modifiers such as
        # 26 / TC come first on a line by billing convention).
        candidates: list[tuple[str, str | None, str | None]] = []
        for m in mods:
            if payer_id:
                candidates.append(_key(code, m, payer_id))
        candidates.extend(_key(code, m, None) for m in mods)
        if payer_id:
            candidates.append(_key(code, None, payer_id))
        candidates.append(_key(code, None, None))
        for key in candidates:
            amount = self._rows.get(key)
            if amount is not None:
                return amount
        return None

    def price_lines(self, encounter: Encounter) -> PricedClaim:
        """Charge per line = unit fee x units (cents, half up); a clinic-supplied charge is kept as is.

        Raises UnpricedLine (naming the line and code) if a line without a charge is not on the schedule.
        """
        payer_id = encounter.coverage.payer_id
        lines = []
        for n, sl in enumerate(encounter.service_lines, start=1):
            if sl.charge is not None:
                lines.append(
                    PricedLine(n, sl.procedure_code, tuple(sl.modifiers), sl.units, None, sl.charge, "encounter")
                )
                continue
            fee = self.price(sl.procedure_code, sl.modifiers, payer_id)
            if fee is None:
                raise UnpricedLine(n, sl.procedure_code, self.clinic_id)
            charge = (fee * sl.units).quantize(CENT, rounding=ROUND_HALF_UP)
            lines.append(PricedLine(n, sl.procedure_code, tuple(sl.modifiers), sl.units, fee, charge, "fee_schedule"))
        total = sum((line.charge for line in lines), Decimal("0.00"))
        return PricedClaim(encounter.clinic_id, encounter.encounter_id, payer_id, tuple(lines), total)


def _parse_row(raw: dict[str | None, str | None] | dict[str, str], where: str) -> FeeRow:
    def cell(name: str) -> str:
        return (raw.get(name) or "").strip()

    code = cell("procedure_code").upper()
    if not PROCEDURE_CODE.fullmatch(code):
        raise FeeScheduleError(f"{where}: procedure_code {code or '(blank)'} is not a CPT or HCPCS code")
    modifier = cell("modifier").upper() or None
    if modifier is not None and not _MODIFIER.fullmatch(modifier):
        raise FeeScheduleError(f"{where}: {code} modifier {modifier} is not two letters/digits")
    payer_id = cell("payer_id") or None
    amount_text = cell("amount").replace("$", "").replace(",", "")
    if not _AMOUNT.fullmatch(amount_text):
        raise FeeScheduleError(f"{where}: {code} amount is not a money amount like 125 or 125.00")
    try:
        amount = Decimal(amount_text).quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guarantees a number
        raise FeeScheduleError(f"{where}: {code} amount is not a number") from exc
    if amount <= 0:
        raise FeeScheduleError(f"{where}: {code} amount must be greater than zero")
    return FeeRow(code, modifier, payer_id, amount)


@lru_cache(maxsize=64)
def _load_cached(clinic_id: str, directory: str | None) -> FeeSchedule:
    if not _CLINIC_ID.fullmatch(clinic_id):
        raise FeeScheduleNotFound(f"no fee schedule for clinic {clinic_id!r}: not a valid clinic id")
    name = f"{clinic_id}.csv"
    if directory is None:
        ref = resources.files("medbill").joinpath("data", "fee_schedules", name)
        if not ref.is_file():
            raise FeeScheduleNotFound(f"no fee schedule for clinic {clinic_id} (packaged data)")
        text = ref.read_text(encoding="utf-8-sig")
        source = f"fee_schedules/{name}"
    else:
        path = Path(directory) / name
        if not path.is_file():
            raise FeeScheduleNotFound(f"no fee schedule for clinic {clinic_id} in {directory}")
        text = path.read_text(encoding="utf-8-sig")
        source = str(path)
    return FeeSchedule.from_csv_text(clinic_id, text, source)
