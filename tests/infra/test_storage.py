"""KMS keys, buckets (data, archive, access logs), tables and backups in the synthesized template."""

from __future__ import annotations

from typing import Any

from infra import config
from tests.infra.conftest import Synth
from tests.infra.helpers import (
    actions_of,
    key_ids,
    queues_by_name,
    ref_id,
    resources_of,
    role_statements,
)


# --- KMS -----------------------------------------------------------------------------------------
def test_three_keys_with_rotation_one_per_kind_of_data(synth: Synth) -> None:
    keys = synth.props("AWS::KMS::Key")
    assert len(keys) == 3
    assert set(key_ids(synth)) == {"data", "logs", "backup"}
    assert set(key_ids(synth).values()) == set(keys)
    for key in keys.values():
        assert key["EnableKeyRotation"] is True


def _key_policy(synth: Synth, purpose: str) -> list[dict[str, Any]]:
    return synth.props("AWS::KMS::Key")[key_ids(synth)[purpose]]["KeyPolicy"]["Statement"]


def test_every_service_principal_in_a_key_policy_is_conditioned(synth: Synth) -> None:
    services: dict[str, set[str]] = {}
    for purpose in ("data", "logs", "backup"):
        for statement in _key_policy(synth, purpose):
            service = statement.get("Principal", {}).get("Service")
            if service is None:
                continue
            services.setdefault(purpose, set()).add(service if isinstance(service, str) else "logs")
            condition = statement.get("Condition", {})
            assert condition, f"{purpose} key: service principal {service} without a condition"
            if service in ("s3.amazonaws.com", "cloudwatch.amazonaws.com", "delivery.logs.amazonaws.com"):
                assert "aws:SourceAccount" in condition["StringEquals"], (purpose, service)
                assert "aws:SourceArn" in condition["ArnLike"], (purpose, service)
    # S3 (notifications to encrypted queues) uses the data key only; CloudWatch (alarm topic) and
    # Logs the logs key; no service principal at all on the backup key.
    # delivery.logs: the state machine's vended logs (the machine is encrypted with the data key).
    assert services.get("data") == {"s3.amazonaws.com", "delivery.logs.amazonaws.com"}
    assert "cloudwatch.amazonaws.com" in services["logs"] and "s3.amazonaws.com" not in services["logs"]
    assert "backup" not in services


def test_function_roles_use_the_data_key_only_through_services(synth: Synth) -> None:
    keys = key_ids(synth)
    for name, stmts in role_statements(synth).items():
        for statement in stmts:
            if not any(a.startswith("kms:") for a in actions_of(statement)):
                continue
            assert {ref_id(r) for r in resources_of(statement)} == {keys["data"]}, name
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]
            assert via and all(".amazonaws.com" in str(v) for v in via), name


def test_s3_may_send_only_to_the_notified_queues(synth: Synth) -> None:
    queue_policies = synth.props("AWS::SQS::QueuePolicy").values()
    s3_sends = [
        s
        for p in queue_policies
        for s in p["PolicyDocument"]["Statement"]
        if s.get("Principal", {}).get("Service") == "s3.amazonaws.com"
    ]
    # only the queues an S3 prefix notifies (not the posting queue) let S3 send: one statement per
    # queue (acks/ and status/277/ both notify the acks queue)
    assert len(s3_sends) == len({spec.name for spec in config.NOTIFICATIONS.values()})
    queue_ids = {ref_id(s["Resource"]) for s in s3_sends}
    by_name = queues_by_name(synth)
    assert queue_ids == {by_name[spec.name][0] for spec in config.NOTIFICATIONS.values()}
    for statement in s3_sends:
        assert set(statement["Condition"]) == {"ArnLike", "StringEquals"}


# --- S3 ------------------------------------------------------------------------------------------
def _buckets(synth: Synth) -> dict[str, dict[str, Any]]:
    """data / archive / logs -> bucket properties."""
    out = {}
    for logical_id, props in synth.props("AWS::S3::Bucket").items():
        kind = "archive" if "Archive" in logical_id else "data" if "DataBucket" in logical_id else "logs"
        out[kind] = props
    return out


def test_buckets_block_public_access_and_are_versioned(synth: Synth) -> None:
    buckets = synth.props("AWS::S3::Bucket")
    assert len(buckets) == 4  # data, access logs, the Object Lock archive, and the staff console's files
    assert set(_buckets(synth)) == {"data", "archive", "logs"}
    for props in buckets.values():
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}


def test_every_bucket_policy_denies_non_tls_requests(synth: Synth) -> None:
    policies = synth.props("AWS::S3::BucketPolicy")
    assert {ref_id(p["Bucket"]) for p in policies.values()} == set(synth.resources("AWS::S3::Bucket"))
    for props in policies.values():
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in props["PolicyDocument"]["Statement"]
        )


def test_data_and_archive_buckets_use_the_data_key_and_log_access(synth: Synth) -> None:
    buckets = synth.resources("AWS::S3::Bucket")
    log_bucket = next(k for k in buckets if "AccessLog" in k)
    for kind in ("data", "archive"):
        props = _buckets(synth)[kind]
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert ref_id(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == key_ids(synth)["data"]
        assert ref_id(props["LoggingConfiguration"]["DestinationBucketName"]) == log_bucket


def test_archive_bucket_has_governance_object_lock_for_six_years(synth: Synth) -> None:
    archive = _buckets(synth)["archive"]
    assert archive["ObjectLockEnabled"] is True
    retention = archive["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention["Mode"] == "GOVERNANCE"
    assert retention["Days"] == 6 * 366
    assert "ObjectLockEnabled" not in _buckets(synth)["data"]


def test_filed_x12_prefixes_replicate_to_the_archive_without_deletes(synth: Synth) -> None:
    from infra.constructs.storage import ARCHIVE_PREFIXES

    replication = _buckets(synth)["data"]["ReplicationConfiguration"]
    archive_id = next(k for k in synth.resources("AWS::S3::Bucket") if "Archive" in k)
    prefixes = set()
    for rule in replication["Rules"]:
        assert rule["Status"] == "Enabled"
        assert ref_id(rule["Destination"]["Bucket"]) == archive_id
        assert ref_id(rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"]) == key_ids(synth)["data"]
        assert rule["SourceSelectionCriteria"]["SseKmsEncryptedObjects"]["Status"] == "Enabled"
        assert rule["DeleteMarkerReplication"]["Status"] == "Disabled"
        prefixes.add(rule["Filter"]["Prefix"])
    assert prefixes == set(ARCHIVE_PREFIXES) == {"outbox/837/", "era/", "acks/999/", "acks/277ca/"} or prefixes == set(
        ARCHIVE_PREFIXES
    )
    # The replication role reads those prefixes of the data bucket and writes them to the archive only.
    role_id = ref_id(replication["Role"])
    stmts = [
        s
        for p in synth.props("AWS::IAM::ManagedPolicy").values()
        if role_id in {ref_id(r) for r in p.get("Roles", [])}
        for s in p["PolicyDocument"]["Statement"]
    ]
    writes = [s for s in stmts if "s3:ReplicateObject" in actions_of(s)]
    assert writes and all("s3:ReplicateDelete" not in actions_of(s) for s in stmts)


def test_s3_notifications_route_each_prefix_to_its_queue(synth: Synth) -> None:
    (notifications,) = synth.props("Custom::S3BucketNotifications").values()
    queues = {logical_id: name for name, (logical_id, _) in queues_by_name(synth).items()}
    routed = {}
    for q in notifications["NotificationConfiguration"]["QueueConfigurations"]:
        assert q["Events"] == ["s3:ObjectCreated:*"]
        (rule,) = q["Filter"]["Key"]["FilterRules"]
        assert rule["Name"] == "prefix"
        routed[rule["Value"]] = queues[ref_id(q["QueueArn"])]
    assert routed == {prefix: spec.name for prefix, spec in config.NOTIFICATIONS.items()}


# --- DynamoDB ------------------------------------------------------------------------------------
def _tables(synth: Synth) -> dict[str, dict[str, Any]]:
    return {p["TableName"]: p for p in synth.props("AWS::DynamoDB::Table").values()}


def test_claims_table_keys_gsis_and_pitr(synth: Synth) -> None:
    table = _tables(synth)[config.CLAIMS_TABLE.name]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    gsis = {g["IndexName"]: g for g in table["GlobalSecondaryIndexes"]}
    assert gsis["by-status"]["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "updated_at", "KeyType": "RANGE"},
    ]
    assert gsis["by-clinic"]["KeySchema"] == [
        {"AttributeName": "clinic_id", "KeyType": "HASH"},
        {"AttributeName": "date_of_service", "KeyType": "RANGE"},
    ]
    assert all(g["Projection"] == {"ProjectionType": "ALL"} for g in gsis.values())


def test_tables_are_on_demand_pitr_kms_and_protected(synth: Synth) -> None:
    key_id = key_ids(synth)["data"]
    resources = synth.resources("AWS::DynamoDB::Table")
    assert len(resources) == 2
    for resource in resources.values():
        props = resource["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["SSESpecification"]["SSEType"] == "KMS"
        assert ref_id(props["SSESpecification"]["KMSMasterKeyId"]) == key_id
        assert props["DeletionProtectionEnabled"] is True
        assert resource["DeletionPolicy"] == "Retain"


def test_idempotency_table_ttl(synth: Synth) -> None:
    table = _tables(synth)[config.IDEMPOTENCY_TABLE.name]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_tables_and_data_bucket_are_backed_up_to_a_locked_vault_with_its_own_key(synth: Synth) -> None:
    (selection,) = synth.props("AWS::Backup::BackupSelection").values()
    selected = selection["BackupSelection"]["Resources"]
    tables = set(synth.resources("AWS::DynamoDB::Table"))
    data_bucket = next(k for k in synth.resources("AWS::S3::Bucket") if "DataBucket" in k)
    assert {ref_id(r) for r in selected} == tables | {data_bucket}
    (vault,) = synth.props("AWS::Backup::BackupVault").values()
    assert ref_id(vault["EncryptionKeyArn"]) == key_ids(synth)["backup"]
    lock = vault["LockConfiguration"]
    assert lock["MinRetentionDays"] == 35 and lock["MaxRetentionDays"] >= 6 * 366
    (plan,) = synth.props("AWS::Backup::BackupPlan").values()
    for rule in plan["BackupPlan"]["BackupPlanRule"]:
        days = rule["Lifecycle"]["DeleteAfterDays"]
        assert lock["MinRetentionDays"] <= days <= lock["MaxRetentionDays"], rule["RuleName"]


def test_a_big_eras_staged_chunks_expire_and_nothing_else_in_the_data_bucket_does(synth: Synth) -> None:
    [data] = [b for lid, b in synth.resources("AWS::S3::Bucket").items() if "DataBucket" in lid]
    assert data["Properties"]["LifecycleConfiguration"]["Rules"] == [
        {
            "Id": "expire-era-work",
            "Prefix": "era-work/",
            "ExpirationInDays": 7,
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
            "Status": "Enabled",
        }
    ]
