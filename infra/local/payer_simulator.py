"""A payer / clearinghouse simulator: answers 837P files with a 999, a 277CA and an 835.

Each pass (`run_once`) reads the 837P files in `outbox/837/` it has not answered yet and writes,
per file, a 999 (`acks/999/`) and a 277CA (`acks/277ca/`); then, per payer, one 835 (`era/`,
which notifies the remittance queue) holding every accepted claim of that payer from this pass.

Adjudication is deterministic and data-driven (`payer_rules.json`, read by `payer_rules.py`), line
by line, in Decimal: see `payer_adjudication.py`; the 835 is built by `payer_remittance.py`.
A claim whose lines are all denied gets CLP02 = 4, otherwise 1 (processed as primary). A claim
for a payer with no rules is rejected in the 277CA (A3:116, submitted to the incorrect payer)
and gets no 835. Frequency 8 (void) claims are acknowledged but not adjudicated.

Idempotent: answered 837 keys are remembered; on start, a 999 already in `acks/999/` for a key
marks it answered (so a restart does not answer twice). Logs carry keys, ids and codes only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra import config
from infra.local.payer_adjudication import ClaimResult, LineResult, adjudicate, read_837p, read_adjudicable
from infra.local.payer_remittance import build_835, payer_claim_number
from infra.local.payer_rules import RULES_PATH, Denial, PayerRules, load_rules
from infra.local.payer_status import answer_276, is_276
from medbill.x12.ack277ca import StatusCode, write_277ca
from medbill.x12.ack999 import write_999
from medbill.x12.claim837 import Claim837, ControlNumbers, Submission837

__all__ = [
    "RULES_PATH",
    "ClaimResult",
    "Denial",
    "LineResult",
    "PassReport",
    "PayerRules",
    "PayerSimulator",
    "adjudicate",
    "build_835",
    "load_rules",
    "payer_claim_number",
    "read_837p",
]

LOG = logging.getLogger("medbill.local.payer_simulator")


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
        existing += len(self._keys(config.STATUS_277_PREFIX))
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
        report = PassReport()
        created = self.clock()
        by_payer: dict[str, list[ClaimResult]] = {}
        envelope: dict[str, tuple[str, str, str]] = {}  # payer -> (clearinghouse id, submitter id, usage)
        answered: list[str] = []  # marked processed only once their 835s are written
        for key in keys:
            if self._answer_status(key, created, report):  # a 276: answered with a 277 (payer_status.py)
                answered.append(key)
                continue
            read = self._read(key)
            if read is None:
                continue
            text, submission = read
            rejected = self._acknowledge(key, text, submission.claims, created, report)
            isa = submission.interchange
            assert isa is not None  # checked by _read
            for claim in submission.claims:
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
        self._write_eras(by_payer, envelope, created, report)
        # Only now: a failure above leaves these files unanswered, so the next pass answers them.
        self.processed.update(answered)
        report.files.extend(answered)
        LOG.info(
            "payer simulator answered %d file(s): %s",
            len(report.files),
            ", ".join(f"{cid}={outcome}" for cid, outcome in sorted(report.outcomes.items())),
        )
        return report

    def _read(self, key: str) -> tuple[str, Submission837] | None:
        """The 837P at `key`, read; None (and marked processed) when it cannot be read."""
        try:
            text = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode("utf-8")
            submission = read_adjudicable(text)
            if submission.interchange is None:
                raise ValueError("no 837 transaction")
        except Exception as exc:  # a broken file: leave it, say which one (no content)
            LOG.error("payer simulator cannot read %s: %s", key, type(exc).__name__)
            self.processed.add(key)
            return None
        return text, submission

    def _answer_status(self, key: str, created: datetime, report: PassReport) -> bool:
        """A 276 in the outbox: its 277 into `status/277/`, from the outcomes decided so far."""
        text = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode("utf-8", errors="replace")
        if not is_276(text):
            return False
        outcomes = {cid: o for r in [*self.reports, report] for cid, o in r.outcomes.items()}
        answer = answer_276(text, outcomes=outcomes, control_number=self._control(), created=created)
        self._put(f"{config.STATUS_277_PREFIX}{self._stem(key)}.277", answer)
        report.written.append(f"{config.STATUS_277_PREFIX}{self._stem(key)}.277")
        return True

    def _acknowledge(
        self, key: str, text: str, claims: list[Claim837], created: datetime, report: PassReport
    ) -> dict[str, list[StatusCode]]:
        """The 999 and the 277CA of one 837P file; the claims rejected (payers without rules)."""
        stem = self._stem(key)
        n999 = self._control()
        ack = write_999(text, control_numbers=ControlNumbers(n999, n999), created=created)
        self._put(f"{config.ACK_999_PREFIX}{stem}.999", ack)
        rejected = {
            c.claim_id: [StatusCode(category="A3", code="116", entity="PR")]
            for c in claims
            if c.payer_id not in self.rules
        }
        payers = {c.claim_id: c.payer_id for c in reversed(claims)}  # a repeated claim id: its first claim wins
        n277 = self._control()
        ca = write_277ca(
            text,
            control_numbers=ControlNumbers(n277, n277),
            created=created,
            rejected=rejected,
            payer_claim_number=lambda cid: payer_claim_number(payers[cid], cid),
        )
        self._put(f"{config.ACK_277CA_PREFIX}{stem}.277ca", ca)
        report.written += [f"{config.ACK_999_PREFIX}{stem}.999", f"{config.ACK_277CA_PREFIX}{stem}.277ca"]
        return rejected

    def _write_eras(
        self,
        by_payer: dict[str, list[ClaimResult]],
        envelope: dict[str, tuple[str, str, str]],
        created: datetime,
        report: PassReport,
    ) -> None:
        """One 835 per payer for this pass."""
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

    # background mode
    def run_forever(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as exc:
                LOG.exception("payer simulator pass failed: %s", type(exc).__name__)
            stop.wait(interval_s)
