"""The intake and remittance queues carry more than one kind of message: each is read by its kind
(medbill.entry.messages), and one that is none of them fails alone, without its body in the error."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from infra.config import FUNCTIONS_PATH
from infra.local.lambda_bridge import LocalLambdaContext
from infra.local.provision import LocalResources
from medbill.adapters.sqs import IntakeQueue
from medbill.entry.messages import (
    ContinueIntake,
    ReleaseEra,
    S3Notification,
    S3Object,
    S3TestEvent,
    UnreadableMessage,
    intake_message,
    remittance_message,
)
from medbill.intake.stream import Cursor
from medbill.ports import ObjectVersion

CANARY = "DOE-JANE-19720314"


def _notification(key: str, event: str = "ObjectCreated:Put") -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": event,
                "s3": {"bucket": {"name": "medbill-data"}, "object": {"key": key, "eTag": "abc", "size": 1}},
            }
        ]
    }


def test_each_kind_is_read_by_its_shape_or_its_kind_field() -> None:
    s3 = intake_message(json.dumps(_notification("encounters/my+file.json")))
    assert isinstance(s3, S3Notification)
    # Keys arrive URL-encoded; other events than ObjectCreated are not ours.
    assert s3.created_objects() == [S3Object("medbill-data", "encounters/my file.json", "abc", 1)]
    assert intake_message(json.dumps(_notification("x", "ObjectRemoved:Delete"))).created_objects() == []  # type: ignore[union-attr]
    assert isinstance(intake_message('{"Service":"Amazon S3","Event":"s3:TestEvent"}'), S3TestEvent)
    # The wire formats medbill.adapters.sqs writes.
    assert intake_message('{"kind": "continue_intake", "key": "encounters/a.csv", "from_record": 7}') == ContinueIntake(
        kind="continue_intake", key="encounters/a.csv", from_record=7
    )
    # A continuation says where to read on: the next pass opens the file there, not at its top.
    resume = {"format": "csv", "record": 7, "offset": 1234, "line": 9, "column": 1, "seen": 3, "split": []}
    message = intake_message(
        json.dumps({"kind": "continue_intake", "key": "encounters/a.csv", "from_record": 7, "resume": resume})
    )
    assert isinstance(message, ContinueIntake) and message.resume is not None
    assert message.resume.cursor == Cursor(record=7, offset=1234, line=9, column=1, seen=3)
    sent: list[str] = []
    queue = IntakeQueue(
        "https://sqs/q", client=SimpleNamespace(send_message=lambda **kw: sent.append(kw["MessageBody"]))
    )
    queue.send_continuation("encounters/a.csv", 7, message.resume.model_dump(mode="json"))
    assert intake_message(sent[0]) == message
    # ... and which version of the object it reads (a replaced file stops instead: decision 40).
    queue.send_continuation("encounters/a.csv", 7, None, {"etag": "abc", "version_id": "v-2"})
    pinned = intake_message(sent[1])
    assert isinstance(pinned, ContinueIntake)
    assert pinned.object_version() == ObjectVersion("abc", "v-2")
    versioned = _notification("encounters/a.json")
    versioned["Records"][0]["s3"]["object"]["versionId"] = "v-1"
    assert intake_message(json.dumps(versioned)).created_objects()[0].version_id == "v-1"  # type: ignore[union-attr]
    body = {"kind": "release", "source_key": "era/a.835", "file_id": "F1", "released_by": "arn:user"}
    assert remittance_message(json.dumps(body)) == ReleaseEra.model_validate(body)
    assert isinstance(remittance_message(json.dumps(_notification("era/a.835"))), S3Notification)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (f"not json {CANARY}", "json_invalid"),
        (json.dumps({"kind": "bogus", "name": CANARY}), "union_tag_invalid"),
        (json.dumps({"name": CANARY}), "union_tag_not_found"),
        (json.dumps([CANARY]), "union_tag_not_found"),
        (json.dumps({"kind": "release", "source_key": CANARY}), "union_tag_invalid"),  # not on this queue
        (json.dumps({"kind": "continue_intake", "key": CANARY}), "continue_intake.from_record: missing"),
        (json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": CANARY}}}]}), "missing"),
    ],
)
def test_an_unreadable_message_is_named_by_its_fields_never_its_body(body: str, why: str) -> None:
    with pytest.raises(UnreadableMessage) as raised:
        intake_message(body)
    assert why in str(raised.value) and CANARY not in str(raised.value)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"medbill_fn_{name}_messages_test", FUNCTIONS_PATH / name / "handler.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"rh{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


@pytest.mark.parametrize("name", ["intake", "remittance"])
def test_a_bad_message_is_a_batch_item_failure_and_the_rest_of_the_batch_goes_on(
    name: str, aws: LocalResources
) -> None:
    module = _load(name)
    event = _event(
        '{"Service":"Amazon S3","Event":"s3:TestEvent"}',
        json.dumps({"kind": "bogus", "name": CANARY}),
        f"{CANARY} not json",
    )
    response = module.handler(event, LocalLambdaContext(f"medbill-{name}"))
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    # What Powertools keeps (and Lambda would log) for the failed records: kinds and rules only.
    recorded = [f"{info[0].__name__ if info[0] else ''}: {info[1]}" for info in module.consumer.processor.exceptions]
    assert len(recorded) == 2 and all(r.startswith("UnreadableMessage: ") for r in recorded), recorded
    assert not any(CANARY in r for r in recorded)
