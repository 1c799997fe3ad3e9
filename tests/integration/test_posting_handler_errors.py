"""The posting Lambda's errors name fields and rules, never the values of the message."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from infra.local.lambda_bridge import LambdaBridge, load_project_handlers
from infra.local.provision import LocalResources


def _event(body: str) -> dict[str, object]:
    record = {
        "messageId": "m0",
        "receiptHandle": "rh0",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:medbill-posting",
        "awsRegion": "us-east-1",
    }
    return {"Records": [record]}


def test_an_invalid_posting_message_fails_without_quoting_its_values(aws: LocalResources) -> None:
    _, resolver = load_project_handlers()
    bridge = LambdaBridge(resolver=resolver)
    canary = "DOE-JANE-19720314-" * 3  # 54 characters: longer than any CLP01, and it looks like PHI
    body = json.dumps({"era_id": "E1", "claim_id": canary, "adjustments": [{"group": "CO", "reason": "A1234X"}]})
    # Every record of the batch failed, so Powertools raises; Lambda would log this message.
    with pytest.raises(BatchProcessingError) as raised:
        bridge.call("posting", _event(body))
    text = str(raised.value) + repr(raised.value.child_exceptions)
    assert "ClaimRemittance failed validation" in text and "claim_id: string_too_long" in text
    assert canary not in text and "A1234X" not in text and "DOE-JANE" not in text
