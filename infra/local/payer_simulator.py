"""A payer / clearinghouse simulator: answers 837P files with a 999, a 277CA and an 835.

Each pass (`run_once`) reads the 837P files in `outbox/837/` it has not answered yet and writes,
per file, a 999 (`acks/999/`) and a 277CA (`acks/277ca/`); then, per payer, one 835 (`era/`,
which notifies the remittance queue) holding every accepted claim of that payer from this pass.

Adjudication is deterministic and data-driven (`payer_rules.json`), line by line, in Decimal:
  allowed   = billed x allowed_percent (rounded to the cent)           CO-45 = billed - allowed
  copay     = the payer's copay, once per claim, on the first matching E/M line         PR-3
  deductible= up to the payer's deductible, from what the copay left                      PR-1
  coinsurance = coinsurance_percent of what is left after copay and deductible            PR-2
  paid      = allowed - copay - deductible - coinsurance
  denied codes: paid 0, the whole charge under the rule's group + CARC, and LQ*HE*<RARC>.
A claim whose lines are all denied gets CLP02 = 4, otherwise 1 (processed as primary). A claim
for a payer with no rules is rejected in the 277CA (A3:116, submitted to the incorrect payer)
and gets no 835. Every CLP balances (CLP03 - CLP04 = its CAS), every SVC too (SVC02 - SVC03 =
its CAS), and BPR02 = sum of CLP04 (no PLB). REF*6R is echoed on each SVC so posting can match
lines. Frequency 8 (void) claims are acknowledged but not adjudicated.

Idempotent: answered 837 keys are remembered; on start, a 999 already in `acks/999/` for a key
marks it answered (so a restart does not answer twice). Logs carry keys, ids and codes only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from infra import config

LOG = logging.getLogger("medbill.local.payer_simulator")

RULES_PATH = Path(__file__).with_name("payer_rules.json")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


# --- rules ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Denial:
    group: str
    carc: str
    rarc: str | None


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
    denials: dict[str, Denial]

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


# --- what the simulator reads from an 837P ---------------------------------------------------------------
@dataclass
class SubmittedLine:
    procedure_code: str
    modifiers: list[str]
    charge: Decimal
    units: Decimal
    service_date: str = ""  # CCYYMMDD (first date of a range)
    control_number: str | None = None  # REF*6R


@dataclass
class SubmittedClaim:
    claim_id: str
    total: Decimal
    payer_id: str
    billing_npi: str
    billing_name: str
    billing_tin: str
    place_of_service: str
    frequency_code: str
    patient_last: str = field(default="", repr=False)  # PHI: only ever written into the 835
    patient_first: str = field(default="", repr=False)
    member_id: str = field(default="", repr=False)
    lines: list[SubmittedLine] = field(default_factory=list)


def read_837p(text: str) -> list[SubmittedClaim]:
    """The claims of an 837P, with what adjudication and the 835 need."""
    from medbill.x12.envelope import EnvelopeReader

    claims: list[SubmittedClaim] = []
    for tx in EnvelopeReader(text).transactions():
        if tx.set_id != "837":
            continue
        billing = {"npi": "", "name": "", "tin": ""}
        payer_id = ""
        subscriber = ("", "", "")  # last, first, member id
        patient: tuple[str, str] | None = None
        claim: SubmittedClaim | None = None
        line: SubmittedLine | None = None
        hl_level = ""
        for seg in tx.segments:
            sid = seg.id
            if sid == "HL":
                hl_level = seg.get(3)
                claim, line = None, None
                if hl_level == "20":
                    billing = {"npi": "", "name": "", "tin": ""}
                elif hl_level == "22":
                    payer_id, subscriber, patient = "", ("", "", ""), None
            elif sid == "NM1" and claim is None:
                entity = seg.get(1)
                if entity == "85":
                    billing["npi"], billing["name"] = seg.get(9), seg.get(3)
                elif entity == "IL":
                    subscriber = (seg.get(3), seg.get(4), seg.get(9))
                elif entity == "PR" and not payer_id:
                    payer_id = seg.get(9)
                elif entity == "QC":
                    patient = (seg.get(3), seg.get(4))
            elif sid == "REF" and hl_level == "20" and claim is None and seg.get(1) == "EI":
                billing["tin"] = seg.get(2)
            elif sid == "CLM":
                last, first = patient or subscriber[:2]
                claim = SubmittedClaim(
                    claim_id=seg.get(1),
                    total=Decimal(seg.get(2) or "0"),
                    payer_id=payer_id,
                    billing_npi=billing["npi"],
                    billing_name=billing["name"],
                    billing_tin=billing["tin"],
                    place_of_service=seg.component(5, 1),
                    frequency_code=seg.component(5, 3) or "1",
                    patient_last=last,
                    patient_first=first,
                    member_id=subscriber[2],
                )
                claims.append(claim)
                line = None
            elif claim is not None and sid == "SV1":
                comps = seg.components(1)
                line = SubmittedLine(
                    procedure_code=comps[1] if len(comps) > 1 else "",
                    modifiers=[m for m in comps[2:6] if m],
                    charge=Decimal(seg.get(2) or "0"),
                    units=Decimal(seg.get(4) or "1"),
                )
                claim.lines.append(line)
            elif line is not None and sid == "DTP" and seg.get(1) == "472":
                line.service_date = seg.get(3).split("-")[0]
            elif line is not None and sid == "REF" and seg.get(1) == "6R":
                line.control_number = seg.get(2)
    return claims


# --- adjudication ------------------------------------------------------------------------------------------
def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class LineResult:
    line: SubmittedLine
    allowed: Decimal
    paid: Decimal
    adjustments: list[tuple[str, str, Decimal]]  # (group, CARC, amount)
    remark: str | None = None

    @property
    def denied(self) -> bool:
        return self.paid == 0 and self.remark is not None


@dataclass
class ClaimResult:
    claim: SubmittedClaim
    rules: PayerRules
    lines: list[LineResult]

    @property
    def charge(self) -> Decimal:
        return sum((r.line.charge for r in self.lines), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((r.paid for r in self.lines), ZERO)

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a for r in self.lines for g, _, a in r.adjustments if g == "PR"), ZERO)

    @property
    def status_code(self) -> str:
        return "4" if self.lines and all(r.denied for r in self.lines) else "1"

    @property
    def outcome(self) -> str:
        """paid / short_paid / denied, as the demo names them (short = the patient owes something)."""
        if self.status_code == "4":
            return "denied"
        if any(r.denied for r in self.lines) or self.patient_responsibility > 0:
            return "short_paid"
        return "paid"


def adjudicate(claim: SubmittedClaim, rules: PayerRules) -> ClaimResult:
    results: list[LineResult] = []
    copay_left = rules.copay
    deductible_left = rules.deductible
    for line in claim.lines:
        denial = rules.denials.get(line.procedure_code)
        if denial is not None:
            results.append(
                LineResult(line, ZERO, ZERO, [(denial.group, denial.carc, line.charge)], denial.rarc or None)
            )
            continue
        allowed = min(line.charge, _cents(line.charge * rules.allowed_percent / HUNDRED))
        adjustments: list[tuple[str, str, Decimal]] = []
        if line.charge - allowed > 0:
            adjustments.append(("CO", "45", line.charge - allowed))
        left = allowed
        copay = ZERO
        if copay_left > 0 and rules.copay_applies(line.procedure_code):
            copay = min(copay_left, left)
            copay_left -= copay
            left -= copay
        deductible = min(deductible_left, left)
        deductible_left -= deductible
        left -= deductible
        coinsurance = _cents(left * rules.coinsurance_percent / HUNDRED)
        left -= coinsurance
        for carc, amount in (("1", deductible), ("2", coinsurance), ("3", copay)):
            if amount > 0:
                adjustments.append(("PR", carc, amount))
        results.append(LineResult(line, allowed, left, adjustments))
    return ClaimResult(claim, rules, results)


# --- the 835 -----------------------------------------------------------------------------------------------
def _payer_claim_number(payer_id: str, claim_id: str) -> str:
    return "SIM" + hashlib.sha256(f"{payer_id}/{claim_id}".encode()).hexdigest()[:14].upper()


def _claim_payment(result: ClaimResult) -> Any:
    from medbill.x12.remittance835 import Adjustment, ClaimPayment, PersonName, Reference, ServiceLine

    claim = result.claim
    lines = []
    for r in result.lines:
        svc = ServiceLine(
            "HC",
            r.line.procedure_code,
            r.line.charge,
            r.paid,
            modifiers=list(r.line.modifiers),
            units=r.line.units,
            dates={"472": r.line.service_date} if r.line.service_date else {},
            adjustments=[Adjustment(g, carc, amount) for g, carc, amount in r.adjustments],
            references=[Reference("6R", r.line.control_number)] if r.line.control_number else [],
            amounts={"B6": r.allowed} if not r.denied else {},
            remarks=[("HE", r.remark)] if r.remark else [],
        )
        lines.append(svc)
    return ClaimPayment(
        claim.claim_id,
        result.status_code,
        result.charge,
        result.paid,
        result.patient_responsibility,
        result.rules.filing_indicator,
        _payer_claim_number(claim.payer_id, claim.claim_id),
        claim.place_of_service,
        claim.frequency_code,
        header_number="1",
        names=[
            PersonName(
                "QC",
                "1",
                claim.patient_last,
                claim.patient_first,
                id_qualifier="MI" if claim.member_id else "",
                id=claim.member_id,
            )
        ],
        lines=lines,
    )


def build_835(
    results: list[ClaimResult],
    *,
    interchange_control_number: int,
    created: datetime,
    sender_id: str,
    receiver_id: str,
    usage: str,
) -> str:
    """One 835 file for one payer: one transaction (ST) per payee (billing NPI)."""
    from medbill.x12.remittance835 import Contact, Party, Payment, Reference, write_835

    rules = results[0].rules
    by_payee: dict[str, list[ClaimResult]] = {}
    for r in results:
        by_payee.setdefault(r.claim.billing_npi, []).append(r)
    payments = []
    for n, (npi, claims) in enumerate(sorted(by_payee.items()), start=1):
        total = sum((c.paid for c in claims), ZERO)
        trace = f"{interchange_control_number:09d}{n:03d}"
        first = claims[0].claim
        payments.append(
            Payment(
                total,
                handling_code="I" if total > 0 else "H",  # H: remittance advice only, no money moves
                credit_debit="C",
                payment_method="CHK" if total > 0 else "NON",
                payment_date=created.strftime("%Y%m%d"),
                trace_number=trace,
                payer_identifier="1" + rules.tin,
                production_date=created.strftime("%Y%m%d"),
                payer=Party(
                    "PR",
                    rules.name,
                    "XV",
                    rules.payer_id,
                    address=["PO BOX 1000"],
                    city="SPRINGFIELD",
                    state="IL",
                    postal_code="62701",
                    contacts=[Contact("BL", "EDI SUPPORT", [("TE", "8005550199")])],
                ),
                payee=Party(
                    "PE",
                    first.billing_name or "BILLING PROVIDER",
                    "XX",
                    npi,
                    references=[Reference("TJ", first.billing_tin)] if first.billing_tin else [],
                ),
                claims=[_claim_payment(c) for c in claims],
                control_number=f"{n:04d}",
            )
        )
    return write_835(
        payments,
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        application_sender=rules.payer_id,
        created=created,
        usage=usage,
        line_breaks=True,
    )


# --- the simulator -----------------------------------------------------------------------------------------
@dataclass
class PassReport:
    """What one pass answered (ids and codes only)."""

    files: list[str] = field(default_factory=list)  # 837 keys answered
    written: list[str] = field(default_factory=list)  # keys written
    outcomes: dict[str, str] = field(default_factory=dict)  # claim id -> paid/short_paid/denied/rejected


class PayerSimulator:
    """Watches `outbox/837/` in the data bucket and answers like a clearinghouse and its payers."""

    def __init__(
        self,
        s3: Any,
        bucket: str = config.DATA_BUCKET,
        *,
        rules_path: Path | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.rules = load_rules(rules_path)
        self.clock = clock or (lambda: datetime.now(UTC).replace(tzinfo=None))
        self.processed: set[str] = set()
        self.reports: list[PassReport] = []
        self._lock = threading.Lock()
        self._seeded = False
        self._next_control = 1

    # S3 helpers
    def _keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(keys)

    def _put(self, key: str, text: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/edi-x12")

    @staticmethod
    def _stem(key: str) -> str:
        name = key.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[0] if "." in name else name

    def _seed(self) -> None:
        # Answers already in the bucket (an earlier run): do not answer those files again, and
        # keep new control numbers clear of the old ones.
        if self._seeded:
            return
        acks = self._keys(config.ACK_999_PREFIX)
        answered = {self._stem(k).removesuffix(".999") for k in acks}
        for key in self._keys(config.OUTBOX_837_PREFIX):
            if self._stem(key) in answered:
                self.processed.add(key)
        existing = len(acks) + len(self._keys(config.ACK_277CA_PREFIX)) + len(self._keys(config.ERA_PREFIX))
        self._next_control = existing + 1
        self._seeded = True

    def _control(self) -> int:
        n = self._next_control
        self._next_control += 1
        return n

    def pending(self) -> list[str]:
        """837 keys in the outbox not answered yet."""
        with self._lock:
            self._seed()
            return [k for k in self._keys(config.OUTBOX_837_PREFIX) if k not in self.processed]

    def run_once(self) -> int:
        """Answer every new 837 file; the number of files answered."""
        with self._lock:
            self._seed()
            new = [k for k in self._keys(config.OUTBOX_837_PREFIX) if k not in self.processed]
            if not new:
                return 0
            report = self._answer(new)
            self.reports.append(report)
            return len(report.files)

    def _answer(self, keys: list[str]) -> PassReport:
        from medbill.x12.ack277ca import StatusCode, write_277ca
        from medbill.x12.ack999 import write_999
        from medbill.x12.claim837 import ControlNumbers
        from medbill.x12.envelope import EnvelopeReader

        report = PassReport()
        created = self.clock()
        by_payer: dict[str, list[ClaimResult]] = {}
        envelope: dict[str, tuple[str, str, str]] = {}  # payer -> (clearinghouse id, submitter id, usage)
        answered: list[str] = []  # marked processed only once their 835s are written
        for key in keys:
            try:
                text = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode("utf-8")
                claims = read_837p(text)
                isa = next(tx.interchange for tx in EnvelopeReader(text).transactions() if tx.interchange)
            except Exception as exc:  # a broken file: leave it, say which one (no content)
                LOG.error("payer simulator cannot read %s: %s", key, type(exc).__name__)
                self.processed.add(key)
                continue
            stem = self._stem(key)
            n999 = self._control()
            ack = write_999(text, control_numbers=ControlNumbers(n999, n999), created=created)
            self._put(f"{config.ACK_999_PREFIX}{stem}.999", ack)
            rejected = {
                c.claim_id: [StatusCode(category="A3", code="116", entity="PR")]
                for c in claims
                if c.payer_id not in self.rules
            }
            n277 = self._control()
            ca = write_277ca(
                text,
                control_numbers=ControlNumbers(n277, n277),
                created=created,
                rejected=rejected,
                payer_claim_number=lambda cid, _claims=claims: _payer_claim_number(  # type: ignore[misc]
                    next(c.payer_id for c in _claims if c.claim_id == cid), cid
                ),
            )
            self._put(f"{config.ACK_277CA_PREFIX}{stem}.277ca", ca)
            report.written += [f"{config.ACK_999_PREFIX}{stem}.999", f"{config.ACK_277CA_PREFIX}{stem}.277ca"]
            for claim in claims:
                if claim.claim_id in rejected:
                    report.outcomes[claim.claim_id] = "rejected"
                    continue
                if claim.frequency_code == "8":
                    continue  # a void: acknowledged, nothing to pay
                result = adjudicate(claim, self.rules[claim.payer_id])
                by_payer.setdefault(claim.payer_id, []).append(result)
                report.outcomes[claim.claim_id] = result.outcome
                envelope.setdefault(claim.payer_id, (isa.receiver_id.strip(), isa.sender_id.strip(), isa.usage))
            answered.append(key)
        for payer_id, results in sorted(by_payer.items()):
            n835 = self._control()
            clearinghouse, submitter, usage = envelope[payer_id]
            era = build_835(
                results,
                interchange_control_number=n835,
                created=created,
                sender_id=clearinghouse,
                receiver_id=submitter,
                usage=usage or "P",
            )
            era_key = f"{config.ERA_PREFIX}{payer_id}-{n835:09d}.835"
            self._put(era_key, era)
            report.written.append(era_key)
        # Only now: a failure above leaves these files unanswered, so the next pass answers them.
        self.processed.update(answered)
        report.files.extend(answered)
        LOG.info(
            "payer simulator answered %d file(s): %s",
            len(report.files),
            ", ".join(f"{cid}={outcome}" for cid, outcome in sorted(report.outcomes.items())),
        )
        return report

    # background mode
    def run_forever(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as exc:
                LOG.exception("payer simulator pass failed: %s", type(exc).__name__)
            stop.wait(interval_s)
