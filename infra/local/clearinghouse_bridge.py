"""The local clearinghouse: the data bucket <-> a real SFTP server <-> the payer simulator.

    data bucket outbox/837/ --(exchange use case, SFTP put)--> server inbound/
    server inbound/ --(PayerBehindSftp)--> simulator bucket outbox/837/ --(PayerSimulator)-->
    simulator bucket acks/999/, acks/277ca/, era/ --(PayerBehindSftp)--> server outbound/
    server outbound/ --(exchange use case, SFTP get, classified by content)--> data bucket prefixes

`LocalClearinghouse` has the payer simulator's face (`run_once`, `pending`), so the local runtime
can run it where it ran `PayerSimulator` on the data bucket; it adds `close()`. The payer simulator
is used unchanged: it reads and writes a bucket of its own (`SIMULATOR_BUCKET`), which stands for the
clearinghouse's and payers' systems behind the SFTP server. The exchange runs the same use case and
adapters as the `clearinghouse` Lambda, with the secret read from (moto's) Secrets Manager; it skips
the settle pause (`settle_seconds=0`) because this clearinghouse writes every answer as `.part` and
renames it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from infra import config
from infra.local.payer_simulator import PayerSimulator
from infra.local.sftp_server import LocalSftpServer
from medbill.adapters.exchange_ledger import S3ExchangeLedger, S3Outbox
from medbill.adapters.s3 import ArtifactStore
from medbill.adapters.sftp import SftpClearinghouse, load_secret
from medbill.workflow.clearinghouse import ClearinghouseExchange, ExchangeSummary

LOG = logging.getLogger("medbill.local.clearinghouse")
SIMULATOR_BUCKET = "medbill-clearinghouse-sim"
ANSWER_PREFIXES = (config.ACK_999_PREFIX, config.ACK_277CA_PREFIX, config.ERA_PREFIX, config.STATUS_277_PREFIX)
TAKEN = "taken"  # where the clearinghouse moves our 837Ps once it has them (not in the client's view)


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return sorted(keys)


def ensure_bucket(s3: Any, bucket: str) -> None:
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=bucket)


class PayerBehindSftp:
    """The clearinghouse's side of the server: takes 837Ps from inbound/, has the payer simulator
    answer them, leaves the answers in outbound/."""

    def __init__(
        self, server: LocalSftpServer, s3: Any, *, bucket: str = SIMULATOR_BUCKET, rules_path: Path | None = None
    ) -> None:
        self.server = server
        self.s3 = s3
        self.bucket = bucket
        ensure_bucket(s3, bucket)
        self.simulator = PayerSimulator(s3, bucket, rules_path=rules_path)
        self.forwarded: set[str] = set()

    def take_claims(self) -> int:
        taken_dir = self.server.root / TAKEN
        taken_dir.mkdir(exist_ok=True)
        names = self.server.files("inbound")
        for name in names:
            path = self.server.root / "inbound" / name
            self.s3.put_object(Bucket=self.bucket, Key=config.OUTBOX_837_PREFIX + name, Body=path.read_bytes())
            shutil.move(path, taken_dir / name)
        return len(names)

    def unforwarded(self) -> list[str]:
        keys = [k for prefix in ANSWER_PREFIXES for k in _keys(self.s3, self.bucket, prefix)]
        return [k for k in keys if k not in self.forwarded]

    def forward_answers(self) -> int:
        keys = self.unforwarded()
        for key in keys:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            self.server.drop(key.rsplit("/", 1)[-1], body)
            self.forwarded.add(key)
        return len(keys)

    def run_once(self) -> int:
        taken = self.take_claims()
        answered = self.simulator.run_once()
        forwarded = self.forward_answers()
        if taken or forwarded:
            LOG.info("clearinghouse took %d claim files, answered %d, left %d answers", taken, answered, forwarded)
        return taken + forwarded

    def pending(self) -> bool:
        return bool(self.server.files("inbound") or self.simulator.pending() or self.unforwarded())


def record_sent_on_claims(key: str, name: str, at: datetime) -> None:
    """Proof of filing on the claims, as the clearinghouse function's wiring does (the local
    runtime passes it: it has the claims table; an exchange on a bare bucket does not)."""
    from medbill.entry import wiring
    from medbill.workflow.filing import record_sent

    record_sent(wiring.repository(), key, name, at)


class LocalClearinghouse:
    """See the module docstring. `secretsmanager`: a client of the same (moto) AWS as `s3`."""

    def __init__(
        self,
        s3: Any,
        bucket: str = config.DATA_BUCKET,
        *,
        secretsmanager: Any,
        rules_path: Path | None = None,
        root: Path | None = None,
        secret_name: str = config.CLEARINGHOUSE_SECRET_NAME,
        on_sent: Callable[[str, str, datetime], object] | None = None,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.server = LocalSftpServer(root).start()
        try:
            self.secret_arn = _put_secret(secretsmanager, secret_name, self.server.secret())
            self.adapter = SftpClearinghouse(load_secret(self.secret_arn, secretsmanager))
            self.ledger = S3ExchangeLedger(bucket, s3)
            self.exchange = ClearinghouseExchange(
                clearinghouse=self.adapter,
                artifacts=ArtifactStore(bucket, s3),
                outbox=S3Outbox(bucket, s3),
                ledger=self.ledger,
                settle_seconds=0,
                on_sent=on_sent,
            )
            self.payer = PayerBehindSftp(self.server, s3, rules_path=rules_path)
        except BaseException:
            self.server.stop()
            raise
        self.summaries: list[ExchangeSummary] = []

    def run_once(self) -> int:
        """One round trip: send new 837Ps, let the clearinghouse answer, fetch its answers. The
        number of files moved (0 = nothing to do)."""
        # The connection stays open between rounds (closed by `close()`; a lost one is reopened).
        sent = self.exchange.run()
        moved = self.payer.run_once()
        fetched = self.exchange.run()
        self.summaries += [sent, fetched]
        return sent.sent + moved + fetched.fetched + fetched.duplicates

    def pending(self) -> bool:
        """Work left: an 837P not sent, a claim or answer inside the clearinghouse, an answer not
        fetched. Reads the server's folders directly (no SFTP), so it is safe from another thread."""
        outbox = _keys(self.s3, self.bucket, config.OUTBOX_837_PREFIX)
        unsent = any(self.ledger.get(f"sent/{key}") is None for key in outbox)
        return unsent or self.payer.pending() or bool(self.server.files("outbound"))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.adapter.close()
        self.server.stop()


def _put_secret(sm: Any, name: str, secret: dict[str, Any]) -> str:
    text = json.dumps(secret)
    try:
        return str(sm.create_secret(Name=name, SecretString=text)["ARN"])
    except sm.exceptions.ResourceExistsException:
        return str(sm.put_secret_value(SecretId=name, SecretString=text)["ARN"])
