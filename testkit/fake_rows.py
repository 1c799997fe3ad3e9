"""What the in-memory stores share with DynamoDB's way of keeping and listing items: a map as
DynamoDB stores it, and opaque page tokens bound to their listing (testkit/fake_store.py,
testkit/fake_era_store.py)."""

from __future__ import annotations

import base64
import copy
import json
from decimal import Decimal
from typing import Any

from medbill.ports import BadPageToken


def as_stored(data: dict[str, Any]) -> dict[str, Any]:
    """As DynamoDB keeps a map: no None attributes, whole numbers read back as int."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, float):
            raise TypeError("DynamoDB takes no float: money is Decimal")
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in copy.deepcopy(data).items() if v is not None}


def page_token(listing: str, after: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"l": listing, "a": after}).encode()).decode()


def token_position(token: str | None, listing: str) -> Any:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as err:
        raise BadPageToken("next_token is not a token this API issued") from err
    if not isinstance(data, dict) or data.get("l") != listing:
        raise BadPageToken("next_token belongs to another listing")
    return data["a"]


def page_of(rows: list[tuple[Any, Any]], limit: int, token: str | None, listing: str) -> tuple[list[Any], str | None]:
    """rows: (sort key, item) in listing order; the page after the token's sort key."""
    after = token_position(token, listing)
    if after is not None:
        keys = [json.loads(json.dumps(k)) for k, _ in rows]
        rows = rows[next((i + 1 for i, k in enumerate(keys) if k == after), len(rows)) :]
    page = rows[:limit]
    more = len(rows) > limit
    return [item for _, item in page], page_token(listing, page[-1][0]) if more and page else None
