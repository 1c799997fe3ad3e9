"""AWS's transient failures reach the state machine under names its Retry matches (claim.asl.json):
throttling and 5xx as AwsThrottled, unreachable endpoints as AwsUnreachable; every other AWS error
stays a ClientError (terminal: retrying cannot help), and the new message names no data."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from medbill.entry.observability import AwsThrottled, AwsUnreachable, transient_errors_named


def _client_error(code: str, status: int, message: str = "Rate exceeded") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem"
    )


def _raising(exc: Exception) -> Any:
    def handler(event: Any, context: Any) -> Any:
        raise exc

    return transient_errors_named(handler)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ProvisionedThroughputExceededException", 400),
        ("ThrottlingException", 400),
        ("TooManyRequestsException", 429),
        ("InternalServerError", 500),
        ("ServiceUnavailable", 503),
        ("SomethingNew", 502),
    ],
)
def test_throttling_and_server_errors_are_aws_throttled(code: str, status: int) -> None:
    with pytest.raises(AwsThrottled) as err:
        _raising(_client_error(code, status, message="item CANARY-PATIENT"))({}, None)
    assert str(err.value) == f"{code} on PutItem"
    assert type(err.value).__name__ == "AwsThrottled"  # the errorType Lambda reports


@pytest.mark.parametrize("code", ["ValidationException", "AccessDeniedException", "ConditionalCheckFailedException"])
def test_other_aws_errors_stay_terminal_client_errors(code: str) -> None:
    with pytest.raises(ClientError) as err:
        _raising(_client_error(code, 400))({}, None)
    assert not isinstance(err.value, AwsThrottled)


def test_unreachable_endpoints_are_aws_unreachable() -> None:
    with pytest.raises(AwsUnreachable, match="EndpointConnectionError"):
        _raising(EndpointConnectionError(endpoint_url="https://dynamodb"))({}, None)
    with pytest.raises(AwsUnreachable, match="ReadTimeoutError"):
        _raising(ReadTimeoutError(endpoint_url="https://states"))({}, None)


def test_results_pass_through() -> None:
    assert transient_errors_named(lambda event, context: {"ok": event["n"]})({"n": 1}, None) == {"ok": 1}
