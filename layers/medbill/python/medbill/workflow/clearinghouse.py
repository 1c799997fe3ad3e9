"""Clearinghouse exchange: 837Ps out of the bucket's outbox, answers into the bucket's prefixes.

One run (the scheduled `clearinghouse` function) does both directions:

* send: every 837P in `outbox/837/` not yet recorded as sent goes to the clearinghouse's inbound
  folder under its own file name (deterministic, so a retry after a crash between the put and
  the record finds the file there and does not write a second one), then is recorded as sent;
* fetch: the clearinghouse's outbound folder is listed twice, `settle_seconds` apart, and only
  files with the same size and mtime in both listings are read (the adapter already leaves out
  names still being written: `.tmp`, `.part`, `.filepart`, dot files). Each file is identified by
  name + size + mtime and by the sha256 of its content; a file whose identity or content was
  fetched before is not copied again. The file is classified by its content (ISA/GS/ST, never by
  name), copied to its prefix (or to the quarantine prefix with a report), recorded, and only then
  archived remotely. Every step is idempotent, so a run that dies anywhere is repaired by the next.

Ledger keys (`ExchangeLedger`): `sent/<outbox key>`, `fetched/<name>/<size>-<mtime>`,
`content/<sha256>`. Nothing here reads or logs file contents beyond the X12 envelope ids.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from medbill.models.common import utcnow
from medbill.ports import (
    Artifacts,
    Clearinghouse,
    ClearinghouseError,
    ClearinghouseUnavailable,
    ExchangeLedger,
    Outbox,
    RemoteFile,
)
from medbill.prefixes import (
    ACK_277CA_PREFIX,
    ACK_999_PREFIX,
    CLEARINGHOUSE_QUARANTINE_PREFIX,
    ELIGIBILITY_271_PREFIX,
    ERA_PREFIX,
    STATUS_277_PREFIX,
)
from medbill.x12.tokenizer import X12SyntaxError, tokenize

# Answer kind -> the bucket prefix it goes to (S3 notifications on era/ and acks/ start their stages).
ROUTES: dict[str, str] = {
    "999": ACK_999_PREFIX,
    "277ca": ACK_277CA_PREFIX,
    "277": STATUS_277_PREFIX,
    "835": ERA_PREFIX,
    "271": ELIGIBILITY_271_PREFIX,
}
DEFAULT_SETTLE_SECONDS = 2.0


# --- classification by content ---------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """Where a fetched file goes: `kind` (a ROUTES key) or, when None, quarantine for `reason`."""

    kind: str | None
    reason: str = ""

    @property
    def prefix(self) -> str:
        return ROUTES[self.kind] if self.kind else CLEARINGHOUSE_QUARANTINE_PREFIX


def _kind(st01: str, version: str) -> str:
    if st01 == "277":
        if "X214" in version:
            return "277ca"
        if "X212" in version:
            return "277"
        return f"277 ({version or 'no version'})"
    return st01


def classify(body: bytes) -> Route:
    """The kind of answer in `body`, from its envelopes: ST01, with GS08 / ST03 telling a 277CA
    (005010X214) from a claim status 277 (005010X212). A file that is not X12, carries no
    transaction set, mixes kinds, or carries a kind we do not expect goes to quarantine."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Route(None, "not text (not UTF-8)")
    if not text.lstrip("\ufeff \t\r\n").startswith("ISA"):
        return Route(None, "no ISA header: not an X12 interchange")
    kinds: set[str] = set()
    version = ""
    try:
        for segment in tokenize(text):
            if segment.id == "GS":
                version = segment.get(8)
            elif segment.id == "ST":
                kinds.add(_kind(segment.get(1), segment.get(3) or version))
    except X12SyntaxError:
        if not kinds:
            return Route(None, "not readable X12 (bad or truncated envelope)")
        # The envelope told us what it is; the stage that reads it reports the rest.
    if not kinds:
        return Route(None, "no transaction set (ST) in the interchange")
    if len(kinds) > 1:
        return Route(None, "mixed transaction sets: " + ", ".join(sorted(kinds)))
    kind = kinds.pop()
    if kind not in ROUTES:
        return Route(None, f"transaction set {kind} is not one we fetch from the clearinghouse")
    return Route(kind)


# --- the run ------------------------------------------------------------------------------------------
@dataclass
class ExchangeSummary:
    """Counts and file names (never contents) of one run."""

    sent: int = 0
    already_sent: int = 0
    fetched: int = 0  # copied to a prefix (quarantine included)
    quarantined: int = 0
    duplicates: int = 0  # content fetched before under another name or time: not copied again
    archived: int = 0
    unsettled: int = 0  # still being written (size or mtime changed between listings): next run
    by_kind: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # "<name>: <error type>"; retried next run

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "already_sent": self.already_sent,
            "fetched": self.fetched,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "archived": self.archived,
            "unsettled": self.unsettled,
            "by_kind": dict(self.by_kind),
            "failed": list(self.failed),
        }


def _now() -> datetime:
    return utcnow()


@dataclass
class ClearinghouseExchange:
    """The exchange use case, on its ports. `pause` and `now` are injectable for tests."""

    clearinghouse: Clearinghouse
    artifacts: Artifacts
    outbox: Outbox
    ledger: ExchangeLedger
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    pause: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = _now
    # (outbox key, remote name, sent at): proof of filing on the claims (workflow.filing.record_sent).
    # Called before the send is recorded, so a failure here is retried with the send next run.
    on_sent: Callable[[str, str, datetime], object] | None = None

    def run(self) -> ExchangeSummary:
        summary = ExchangeSummary()
        self.send_claims(summary)
        self.fetch_answers(summary)
        return summary

    # --- out ------------------------------------------------------------------------------------
    def send_claims(self, summary: ExchangeSummary) -> None:
        sent = self.ledger.recorded("sent/")
        for key in self.outbox.waiting():
            record_key = f"sent/{key}"
            if record_key in sent or self.ledger.get(record_key) is not None:
                summary.already_sent += 1
                continue
            name = key.rsplit("/", 1)[-1]
            try:
                body = self.artifacts.read(key)
                written = self.clearinghouse.send(name, body)
            except ClearinghouseUnavailable:
                raise  # every other file would fail the same way: the next run retries
            except ClearinghouseError as err:
                summary.failed.append(f"{name}: {type(err).__name__}")
                continue
            sent_at = self.now()
            if self.on_sent is not None:
                self.on_sent(key, name, sent_at)
            self.ledger.put_if_absent(
                record_key,
                {
                    "key": key,
                    "remote_name": name,
                    "size": len(body),
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "sent_at": sent_at.isoformat(),
                    "found_on_server": not written,  # a retry after a crash between put and record
                },
            )
            summary.sent += 1

    # --- in -------------------------------------------------------------------------------------
    def settled(self, summary: ExchangeSummary) -> list[RemoteFile]:
        """Files listed with the same size and mtime twice, `settle_seconds` apart."""
        first = {f.name: f for f in self.clearinghouse.answers()}
        if not first:
            return []
        if self.settle_seconds > 0:
            self.pause(self.settle_seconds)
        second = list(self.clearinghouse.answers())
        stable = [f for f in second if first.get(f.name) == f]
        summary.unsettled += len(second) - len(stable)
        return sorted(stable, key=lambda f: f.name)

    def fetch_answers(self, summary: ExchangeSummary) -> None:
        for remote in self.settled(summary):
            try:
                self.fetch_one(remote, summary)
            except ClearinghouseUnavailable:
                raise
            except ClearinghouseError as err:
                summary.failed.append(f"{remote.name}: {type(err).__name__}")

    def fetch_one(self, remote: RemoteFile, summary: ExchangeSummary) -> None:
        identity_key = f"fetched/{remote.name}/{remote.size}-{remote.modified}"
        if self.ledger.get(identity_key) is None:
            body = self.clearinghouse.read(remote)
            if len(body) != remote.size:  # written to since it was listed: not finished after all
                summary.unsettled += 1
                return
            sha = hashlib.sha256(body).hexdigest()
            content_key = f"content/{sha}"
            earlier = self.ledger.get(content_key)
            if earlier is not None:
                summary.duplicates += 1
                destination = str(earlier.get("key", ""))
            else:
                destination = self._copy(remote, body, sha, summary)
                # The copy is confirmed (the write returned): now it may be recorded and archived.
                self.ledger.put_if_absent(content_key, {"key": destination, "name": remote.name})
            self.ledger.put_if_absent(
                identity_key,
                {
                    "name": remote.name,
                    "size": remote.size,
                    "modified": remote.modified,
                    "sha256": sha,
                    "key": destination,
                    "fetched_at": self.now().isoformat(),
                },
            )
        self.clearinghouse.archive(remote)
        summary.archived += 1

    def _copy(self, remote: RemoteFile, body: bytes, sha: str, summary: ExchangeSummary) -> str:
        route = classify(body)
        # Deterministic: a re-run after a crash before the record writes the same object again.
        destination = f"{route.prefix}{sha[:12]}-{remote.name}"
        self.artifacts.write(destination, body, "application/edi-x12")
        summary.fetched += 1
        if route.kind is None:
            summary.quarantined += 1
            self.artifacts.write_json(
                destination + ".report.json",
                {
                    "file": remote.name,
                    "size": remote.size,
                    "modified": remote.modified,
                    "sha256": sha,
                    "reason": route.reason,
                    "quarantined_at": self.now().isoformat(),
                    "key": destination,
                },
            )
        else:
            summary.by_kind[route.kind] = summary.by_kind.get(route.kind, 0) + 1
        return destination
