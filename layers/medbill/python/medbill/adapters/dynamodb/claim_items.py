"""A claim as a table item and back: the GSI attributes the claim item carries (by-status,
by-clinic and, only on a follow-up worklist, by-worklist and by-clinic-worklist), and the check that
a stored claim still validates. Shared by the claim writes (claims.py) and the listings that read
claims (worklists.py)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from medbill.adapters.dynamodb import keys
from medbill.adapters.dynamodb.table import from_item, plain, to_item
from medbill.billing.worklists import worklist_of
from medbill.models.claim import Claim
from medbill.models.errors import field_path
from medbill.ports import InvalidClaimUpdate

# Attributes of the claim item that are not fields of the claim: its keys and its GSI keys.
_INDEX_ATTRIBUTES = ("pk", "sk", "date_of_service", "worklist", "worklist_order", "clinic_worklist")


def invalid_fields(err: ValidationError) -> str:
    # pydantic quotes the failing input (names, DOBs): name the fields only.
    return ", ".join(sorted({field_path(e["loc"]) for e in err.errors(include_input=False)}))


def claim_item(claim: Claim) -> dict[str, Any]:
    data = claim.model_dump(mode="json")
    data["pk"] = keys.claim_pk(claim.claim_id)
    data["sk"] = keys.CLAIM_SK
    # GSI keys: by-status (status, updated_at) and by-clinic (clinic_id, date_of_service).
    data["date_of_service"] = claim.date_of_service
    # by-worklist (worklist, worklist_order): only claims on a follow-up worklist carry them (sparse).
    on_list = worklist_of(claim)
    if on_list:
        data["worklist"], data["worklist_order"] = on_list
        # by-clinic-worklist (clinic_worklist, worklist_order): the same list, one clinic's part.
        data["clinic_worklist"] = keys.clinic_worklist(claim.clinic_id, on_list[0])
    return to_item(data)


def claim_from(item: dict[str, Any]) -> Claim:
    data = plain(from_item(item))
    for key in _INDEX_ATTRIBUTES:
        data.pop(key, None)
    try:
        return Claim.model_validate(data)
    except ValidationError as err:
        # The message would travel into the Step Functions error cause and the logs.
        raise InvalidClaimUpdate(
            f"stored claim {data.get('claim_id')} does not validate: {invalid_fields(err)}"
        ) from None
