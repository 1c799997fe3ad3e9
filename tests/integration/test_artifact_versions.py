"""The S3 adapter pins a read to an object version (intake's passes over one file): If-Match on the
ETag in a bucket without versions, VersionId in a versioned one; a replaced object is ObjectReplaced,
never the new object's bytes at the old offset."""

from __future__ import annotations

import boto3
import pytest

from infra.local.provision import LocalResources
from medbill.adapters.s3 import ArtifactStore
from medbill.ports import ObjectReplaced

KEY = "encounters/clinic-northside/daily.json"


def test_a_read_pinned_by_etag_fails_once_the_key_holds_another_object(aws: LocalResources) -> None:
    store = ArtifactStore(aws.bucket)
    store.write(KEY, b"0123456789")
    first = store.stat(KEY)
    assert first.size == 10 and first.version.version_id is None  # the local bucket is not versioned
    assert b"".join(store.open(KEY, 4, first.version)) == b"456789"
    store.write(KEY, b"abcdefghijklmnop")
    with pytest.raises(ObjectReplaced):
        list(store.open(KEY, 4, first.version))
    assert b"".join(store.open(KEY, 4)) == b"efghijklmnop"  # unpinned: whatever is there, as before
    boto3.client("s3").delete_object(Bucket=aws.bucket, Key=KEY)
    with pytest.raises(ObjectReplaced):
        list(store.open(KEY, 0, first.version))


def test_a_read_pinned_by_version_id_reads_that_version_in_a_versioned_bucket(aws: LocalResources) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="versioned-data")
    s3.put_bucket_versioning(Bucket="versioned-data", VersioningConfiguration={"Status": "Enabled"})
    store = ArtifactStore("versioned-data")
    store.write(KEY, b"0123456789")
    first = store.stat(KEY)
    assert first.version.version_id is not None
    store.write(KEY, b"abcdefghijklmnop")
    assert store.stat(KEY).version.version_id not in (None, first.version.version_id)
    assert b"".join(store.open(KEY, 4, first.version)) == b"456789"  # the old version, whole
