"""The clearinghouse exchange against a real SFTP server on 127.0.0.1 (asyncssh), with moto S3 and
Secrets Manager: host key checked, partial files never read, each file fetched once, a crash
between copy and archive repaired by the next run, 837Ps sent once, and the payer simulator behind
the server answering 837Ps with 999 / 277CA / 835 files that land in the data bucket's prefixes."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import config
from infra.config import ClearinghouseSettings
from infra.local.clearinghouse_bridge import LocalClearinghouse
from infra.local.lambda_bridge import LocalLambdaContext
from infra.local.sftp_server import LocalSftpServer
from medbill.adapters.exchange_ledger import S3ExchangeLedger, S3Outbox
from medbill.adapters.s3 import ArtifactStore
from medbill.adapters.sftp import SftpClearinghouse, SftpSecret, load_secret
from medbill.entry import wiring
from medbill.ports import ClearinghouseUnavailable
from medbill.workflow.clearinghouse import ClearinghouseExchange
from medbill.x12.claim837 import ControlNumbers, write_837p
from testkit.x12_oracle import make_claim

BUCKET = config.DATA_BUCKET
ERA = (
    "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*MEDBILL        *261207*0100*^*00501*000000007*0*T*:~"
    "GS*HP*CLEARINGHOUSE*MEDBILL*20261207*0100*7*X*005010X221A1~ST*835*0001~BPR*I*0*C*NON************20261207~"
    "SE*3*0001~GE*1*7~IEA*1*000000007~"
)


@pytest.fixture
def server() -> Iterator[LocalSftpServer]:
    with LocalSftpServer() as srv:
        yield srv


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield {"s3": s3, "secretsmanager": boto3.client("secretsmanager", region_name="us-east-1")}


def exchange_for(server: LocalSftpServer, s3: Any, *, settle: float = 0, **secret: Any) -> ClearinghouseExchange:
    adapter = SftpClearinghouse(SftpSecret.model_validate({**server.secret(), **secret}), connect_timeout=10)
    return ClearinghouseExchange(
        adapter, ArtifactStore(BUCKET, s3), S3Outbox(BUCKET, s3), S3ExchangeLedger(BUCKET, s3), settle_seconds=settle
    )


def keys(s3: Any, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def an_837p(claim_id: str = "CLM-SFTP1", icn: int = 41) -> str:
    claim = make_claim(claim_id, payer_id="PAYERA01", lines=(("99213", (), "1", "150.00", (1,)),))
    return write_837p(
        [claim],
        settings=ClearinghouseSettings(),
        control_numbers=ControlNumbers(interchange=icn, group=icn),
        created=datetime(2026, 12, 1, 9, 0),
    )


# --- connection and host key ------------------------------------------------------------------------
def test_a_server_with_another_host_key_is_refused(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    server.drop("a.835", ERA)
    impostor_key = LocalSftpServer().public_host_key()  # never started: only its key is used
    exchange = exchange_for(server, aws["s3"], host_key=impostor_key)

    with pytest.raises(ClearinghouseUnavailable, match="host key does not match"):
        exchange.run()

    assert server.files("outbound") == ["a.835"] and keys(aws["s3"], "") == []


def test_a_secret_without_a_usable_host_key_is_refused(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    with pytest.raises(ClearinghouseUnavailable, match="host_key is not an SSH public key"):
        exchange_for(server, aws["s3"], host_key="not-a-key").run()


def test_a_secret_with_a_broken_private_key_is_refused(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    with pytest.raises(ClearinghouseUnavailable, match="private_key is not usable"):
        exchange_for(server, aws["s3"], private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n").run()


def test_password_login_works_and_a_wrong_password_is_refused(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    password_only = {k: v for k, v in server.secret(use_key=False).items()}
    adapter = SftpClearinghouse(SftpSecret.model_validate(password_only))
    assert adapter.answers() == []
    adapter.close()
    wrong = SftpClearinghouse(SftpSecret.model_validate({**password_only, "password": "guess"}))
    with pytest.raises(ClearinghouseUnavailable, match="refused our credentials"):
        wrong.answers()


def test_the_secret_comes_from_secrets_manager(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    sm = aws["secretsmanager"]
    arn = sm.create_secret(Name="medbill/clearinghouse/sftp", SecretString=json.dumps(server.secret()))["ARN"]
    assert load_secret(arn, sm).port == server.port
    sm.put_secret_value(SecretId=arn, SecretString=json.dumps({"host": "x"}))
    with pytest.raises(ClearinghouseUnavailable, match="username") as err:
        load_secret(arn, sm)
    assert "x" not in str(err.value).replace("secret", "")  # names fields, not values


# --- fetching ---------------------------------------------------------------------------------------
def test_answers_land_in_their_prefixes_and_are_archived(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    server.drop("remit-1.txt", ERA)  # the name says nothing; the content says 835
    server.drop("junk.dat", b"\x00\x01 not x12")
    server.drop("writing.835.part", ERA[:40])  # still being written: never listed

    summary = exchange_for(server, aws["s3"]).run()

    assert (summary.fetched, summary.quarantined, summary.archived) == (2, 1, 2)
    [era] = keys(aws["s3"], "era/")
    assert era.endswith("-remit-1.txt")
    assert len(keys(aws["s3"], "quarantine/clearinghouse/")) == 2  # the file and its report
    assert server.files("outbound") == [] and server.files("archive") == ["junk.dat", "remit-1.txt"]
    assert (server.root / "outbound" / "writing.835.part").exists()


def test_a_file_appearing_twice_is_fetched_once(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    server.drop("era-1.835", ERA, mtime=1_790_000_000)
    exchange_for(server, aws["s3"]).run()
    server.drop("era-1.835", ERA, mtime=1_790_000_600)  # the clearinghouse puts it back

    summary = exchange_for(server, aws["s3"]).run()

    assert (summary.fetched, summary.duplicates, summary.archived) == (0, 1, 1)
    assert len(keys(aws["s3"], "era/")) == 1
    assert server.files("archive") == ["era-1.835", "era-1.835.1790000600-" + str(len(ERA))]


def test_a_file_still_growing_between_listings_is_not_read(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    path = server.drop("slow.835", ERA[:100], mtime=1_790_000_000)
    exchange = exchange_for(server, aws["s3"], settle=0.01)

    def grow(_: float) -> None:  # the clearinghouse appends while we wait between listings
        path.write_text(ERA)

    exchange.pause = grow
    summary = exchange.run()
    assert (summary.unsettled, summary.fetched) == (1, 0) and keys(aws["s3"], "") == []

    exchange.pause = lambda _: None
    assert exchange.run().fetched == 1
    [era] = keys(aws["s3"], "era/")
    assert aws["s3"].get_object(Bucket=BUCKET, Key=era)["Body"].read() == ERA.encode()


def test_a_crash_between_copy_and_archive_reruns_cleanly(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    server.drop("era-2.835", ERA)
    exchange = exchange_for(server, aws["s3"])
    adapter = exchange.clearinghouse
    assert isinstance(adapter, SftpClearinghouse)

    class Crash(BaseException):  # the Lambda dies (timeout, out of memory): nothing catches it
        pass

    def crash(_: Any) -> None:
        raise Crash

    adapter.archive = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        exchange.run()
    assert len(keys(aws["s3"], "era/")) == 1 and server.files("outbound") == ["era-2.835"]

    again = exchange_for(server, aws["s3"]).run()  # a new invocation

    assert (again.fetched, again.duplicates, again.archived) == (0, 0, 1)
    assert len(keys(aws["s3"], "era/")) == 1 and server.files("archive") == ["era-2.835"]
    assert len(keys(aws["s3"], "exchange-ledger/fetched/")) == 1


# --- sending ----------------------------------------------------------------------------------------
def test_837p_put_once_under_its_own_name(server: LocalSftpServer, aws: dict[str, Any]) -> None:
    s3 = aws["s3"]
    s3.put_object(Bucket=BUCKET, Key="outbox/837/CLM-SFTP1-41.x12", Body=an_837p().encode())

    assert exchange_for(server, s3).run().sent == 1
    assert server.files("inbound") == ["CLM-SFTP1-41.x12"]
    assert not list((server.root / "inbound").glob("*.tmp"))
    first_mtime = (server.root / "inbound" / "CLM-SFTP1-41.x12").stat().st_mtime_ns

    # a crash between the put and the record: the record is lost, the remote file is not
    s3.delete_object(Bucket=BUCKET, Key="exchange-ledger/sent/outbox/837/CLM-SFTP1-41.x12.json")
    retry = exchange_for(server, s3).run()
    assert retry.sent == 1 and server.files("inbound") == ["CLM-SFTP1-41.x12"]
    assert (server.root / "inbound" / "CLM-SFTP1-41.x12").stat().st_mtime_ns == first_mtime  # not rewritten
    assert exchange_for(server, s3).run().already_sent == 1


# --- the scheduled Lambda ---------------------------------------------------------------------------
def _handler() -> Any:
    path = config.FUNCTIONS_PATH / "clearinghouse" / "handler.py"
    spec = importlib.util.spec_from_file_location("medbill_sftp_test.clearinghouse.handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_handler_exchanges_and_logs_names_and_counts_only(
    server: LocalSftpServer, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = aws["secretsmanager"].create_secret(Name="ch", SecretString=json.dumps(server.secret()))["ARN"]
    # The function stamps each send on its claims (proof of filing): it needs the claims table.
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="claims",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for name, value in {
        "TABLE_NAME": "claims",
        "DATA_BUCKET": BUCKET,
        "CLEARINGHOUSE_SECRET_ID": arn,
        "CLEARINGHOUSE_SETTLE_SECONDS": "0",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "medbill",
    }.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    canary = an_837p()
    aws["s3"].put_object(Bucket=BUCKET, Key="outbox/837/CLM-SFTP1-41.x12", Body=canary.encode())
    server.drop("era-9.835", ERA)
    try:
        result = _handler().handler({"source": "aws.events"}, LocalLambdaContext("medbill-clearinghouse"))
    finally:
        wiring.reset()

    assert result["sent"] == 1 and result["fetched"] == 1 and result["by_kind"] == {"835": 1}
    logged = capsys.readouterr().out
    assert "clearinghouse exchange done" in logged
    for segment in canary.split("~")[3:12]:  # names, dates, ids inside the 837P never reach a log
        for value in segment.split("*")[1:]:
            if len(value) > 5:
                assert value not in logged


# --- the payer simulator behind the server ----------------------------------------------------------
def test_local_clearinghouse_round_trip(aws: dict[str, Any], tmp_path: Path) -> None:
    s3 = aws["s3"]
    s3.put_object(Bucket=BUCKET, Key="outbox/837/CLM-SFTP1-41.x12", Body=an_837p().encode())
    local = LocalClearinghouse(s3, BUCKET, secretsmanager=aws["secretsmanager"], root=tmp_path)
    try:
        assert local.pending()
        assert local.run_once() > 0
        assert not local.pending()
        assert local.run_once() == 0
    finally:
        local.close()

    assert len(keys(s3, "acks/999/")) == 1 and len(keys(s3, "acks/277ca/")) == 1 and len(keys(s3, "era/")) == 1
    assert (tmp_path / "taken" / "CLM-SFTP1-41.x12").exists()
    assert sorted(p.name for p in (tmp_path / "archive").iterdir()) == sorted(
        k.split("-", 1)[1] for k in keys(s3, "acks/") + keys(s3, "era/")
    )


def test_the_handler_cold_start_names_a_missing_secret_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from medbill.entry.settings import SettingsError

    monkeypatch.setenv("DATA_BUCKET", BUCKET)
    monkeypatch.delenv("CLEARINGHOUSE_SECRET_ID", raising=False)
    wiring.reset()
    with pytest.raises(SettingsError, match="CLEARINGHOUSE_SECRET_ID"):
        _handler()
    wiring.reset()


def test_the_ledger_writes_each_record_once(aws: dict[str, Any]) -> None:
    ledger = S3ExchangeLedger(BUCKET, aws["s3"])
    assert ledger.get("fetched/a/1-2") is None
    assert ledger.put_if_absent("fetched/a/1-2", {"sha256": "one"}) is True
    assert ledger.put_if_absent("fetched/a/1-2", {"sha256": "two"}) is False  # If-None-Match: *
    assert ledger.get("fetched/a/1-2") == {"sha256": "one"}
    assert keys(aws["s3"], "exchange-ledger/") == ["exchange-ledger/fetched/a/1-2.json"]
    assert ledger.recorded("fetched/") == {"fetched/a/1-2"} and ledger.recorded("sent/") == set()
