"""The payee directory: which clinics bill under a billing provider NPI (the N1*PE of an 835), so an
ERA paid to that NPI is listed for those clinics (decision 27).

  PAYEE#<billing provider NPI> / CLINIC#<clinic id>   written with every new claim (claims.py)
"""

from __future__ import annotations

from typing import Any

from medbill.adapters.dynamodb import keys
from medbill.adapters.dynamodb.table import Table, from_item, to_item


def payee_put(npi: str, clinic_id: str) -> dict[str, Any]:
    """Transaction item: the clinic bills under this NPI. An unconditional put: every claim of the
    clinic writes the same item."""
    item = {"pk": keys.payee_pk(npi), "sk": f"{keys.PAYEE_CLINIC}{clinic_id}", "clinic_id": clinic_id}
    return {"Put": {"Item": to_item(item)}}


class PayeeDirectoryTable(Table):
    def payee_clinics(self, npi: str) -> list[str]:
        """The clinics that bill under a billing provider NPI (one query of its directory partition)."""
        if not npi:
            return []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": to_item({":p": keys.payee_pk(npi)}),
        }
        return sorted(
            str(from_item(item)["clinic_id"])
            for resp in self._pages(self._client.query, kwargs)
            for item in resp.get("Items", [])
        )
