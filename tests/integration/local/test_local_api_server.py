"""The staff API over HTTP: requests become API Gateway REST proxy events for the api Lambda."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from infra.local.api_server import ApiServer
from infra.local.lambda_bridge import LambdaBridge


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_get_with_path_and_query_reaches_the_handler_as_a_proxy_event() -> None:
    events: list[dict[str, Any]] = []

    def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json", "X-Claim": "CLM1"},
            "body": json.dumps({"ok": True, "path": event["path"]}),
            "isBase64Encoded": False,
        }

    with ApiServer(LambdaBridge({"api": api})) as server:
        status, headers, body = _get(
            server.url + "/claims/CLM1/timeline?status=denied&status=short_paid&limit=5", Authorization="Bearer x"
        )
    assert status == 200
    assert headers["X-Claim"] == "CLM1"
    assert json.loads(body) == {"ok": True, "path": "/claims/CLM1/timeline"}
    (event,) = events
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/claims/CLM1/timeline"
    assert event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "claims/CLM1/timeline"}
    assert event["queryStringParameters"] == {"status": "short_paid", "limit": "5"}
    assert event["multiValueQueryStringParameters"] == {"status": ["denied", "short_paid"], "limit": ["5"]}
    assert event["headers"]["Authorization"] == "Bearer x"
    assert event["multiValueHeaders"]["Authorization"] == ["Bearer x"]
    assert event["body"] is None and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["stage"] == "local" and ctx["requestId"] and ctx["identity"]["sourceIp"] == "127.0.0.1"
    # Powertools' own model of the event accepts it.
    parsed = APIGatewayProxyEvent(event)
    assert parsed.get_query_string_value("limit") == "5"
    assert parsed.request_context.stage == "local"


def test_powertools_rest_resolver_routes_and_posts_round_trip() -> None:
    app = APIGatewayRestResolver()

    @app.get("/claims/<claim_id>")
    def get_claim(claim_id: str) -> dict[str, Any]:
        return {"claim_id": claim_id, "status": app.current_event.get_query_string_value("view", "summary")}

    @app.post("/claims/<claim_id>/actions")
    def act(claim_id: str) -> tuple[dict[str, Any], int]:
        return {"claim_id": claim_id, "action": app.current_event.json_body["action"]}, 202

    def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    with ApiServer(LambdaBridge({"api": api})) as server:
        status, _, body = _get(server.url + "/claims/CLM9?view=full")
        assert (status, json.loads(body)) == (200, {"claim_id": "CLM9", "status": "full"})
        req = urllib.request.Request(
            server.url + "/claims/CLM9/actions",
            data=json.dumps({"action": "resubmit"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 202
            assert json.loads(resp.read()) == {"claim_id": "CLM9", "action": "resubmit"}
        status, _, _ = _get(server.url + "/nope")
        assert status == 404


@pytest.mark.parametrize("answer", ["raise", "malformed"])
def test_handler_failure_is_a_502(answer: str) -> None:
    def api(event: dict[str, Any], context: Any) -> Any:
        if answer == "raise":
            raise RuntimeError("boom")
        return {"body": "no status code"}

    with ApiServer(LambdaBridge({"api": api})) as server:
        status, _, body = _get(server.url + "/claims")
    assert status == 502
    assert json.loads(body) == {"message": "Internal server error"}
