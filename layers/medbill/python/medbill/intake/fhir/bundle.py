"""read_fhir_bundle: a FHIR R4 Bundle -> encounters, rejections, and an OperationOutcome per entry.

Takes a transaction, batch or collection Bundle. Each entry's resource is parsed and validated by
`fhir.resources` (the R4B models, which read R4 Claim, ChargeItem, Coverage, Encounter and Patient
as they are). A record is a billable visit: a Claim, or an Encounter with the ChargeItems whose context
it is (a ChargeItem without one is a record of its own, rejected). Record number = entry index + 1.

The response is a Bundle (transaction-response / batch-response) with one entry per request entry,
each with an OperationOutcome: accepted with the claim id, or the issues with their FHIRPath. A
transaction is all or nothing: when any entry fails, nothing in it is billed, and every entry says why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from medbill.intake.fhir.index import BundleIndex, Found
from medbill.intake.fhir.visits import map_claim, map_encounter
from medbill.intake.mapped import Mapped, validate_mapped
from medbill.intake.result import AcceptedRecord, IntakeResult, Rejection
from medbill.models.claim import claim_id_for
from medbill.models.clinic_profile import ClinicProfile

BUNDLE_TYPES = ("transaction", "batch", "collection")
_ENTRY = re.compile(r"^Bundle\.entry\[(\d+)\]")


@dataclass
class FhirIntakeResult(IntakeResult):
    response: dict[str, Any] = field(default_factory=dict)  # the response Bundle (or an OperationOutcome)


def outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": issues}


def issue(severity: str, code: str, diagnostics: str, expression: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        out["expression"] = [expression]
    return out


def _issue_code(reason: str) -> str:
    if "is required" in reason:
        return "required"
    if "already appears" in reason:
        return "duplicate"
    if "ICD-10-CM" in reason or "CPT" in reason or "code" in reason:
        return "code-invalid"
    return "invalid"


def fhirpath(base: str, loc: tuple[int | str, ...]) -> str:
    """pydantic loc ('item', 0, 'sequence') -> FHIRPath 'Bundle.entry[2].resource.item[0].sequence'."""
    out = base
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{str(part).removesuffix('__ext')}"
    return out


def validate_entry(entry: Any, i: int) -> list[tuple[str, str]]:
    """(FHIRPath, reason) for each way the entry's resource is not valid FHIR R4(B); never quotes a value."""
    from fhir.resources.R4B import get_fhir_model_class  # imported on first use: the models load in ~0.3 s

    base = f"Bundle.entry[{i}].resource"
    resource = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return [(base, "is required: a resource with its resourceType")]
    try:
        model = get_fhir_model_class(resource["resourceType"])
    except Exception:
        return [(f"{base}.resourceType", "is not a FHIR R4 resource type")]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return [
            (fhirpath(base, tuple(e["loc"])), f"is not valid FHIR R4: {str(e['msg']).removeprefix('Value error, ')}")
            for e in exc.errors(include_url=False, include_input=False)[:20]
        ]
    except Exception as exc:  # the type name only: a message may quote the resource
        return [(base, f"could not be read ({type(exc).__name__})")]
    return []


def _records(index: BundleIndex) -> list[tuple[Found, list[Found]]]:
    """Billable visits in entry order: (Claim, []) or (Encounter, its ChargeItems) or (orphan ChargeItem, [])."""
    records: list[tuple[Found, list[Found]]] = [(c, []) for c in index.of_type("Claim")]
    claimed = {
        id(enc.resource)
        for c, _ in records
        for item in c.resource.get("item") or []
        if isinstance(item, dict)
        for ref in item.get("encounter") or []
        if (enc := index.resolve(ref, c)) is not None
    }
    charges = index.of_type("ChargeItem")
    placed: set[int] = set()
    for enc in index.of_type("Encounter"):
        if id(enc.resource) in claimed:
            continue
        mine = [ch for ch in charges if index.refers_to(ch.resource.get("context"), enc, ch)]
        placed |= {id(ch.resource) for ch in mine}
        if mine:
            records.append((enc, mine))
    records += [(ch, []) for ch in charges if id(ch.resource) not in placed]
    return sorted(records, key=lambda r: r[0].entry)


class _Reader:
    def __init__(self, entries: list[Any], profile: ClinicProfile, kind: str) -> None:
        self.entries, self.profile, self.kind = entries, profile, kind
        self.result = FhirIntakeResult(format="fhir")
        self.issues: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(entries))}
        self.invalid = {i: validate_entry(e, i) for i, e in enumerate(entries)}
        for i, problems in self.invalid.items():
            self.issues[i] += [issue("error", "structure", f"{p}: {r}", p) for p, r in problems]
        self.index = BundleIndex([e if isinstance(e, dict) else {} for e in entries])
        self.seen: dict[str, int] = {}

    def record(self, head: Found, charges: list[Found]) -> None:
        number = head.entry + 1
        self.result.records += 1
        rtype = head.resource.get("resourceType")
        if self.invalid[head.entry]:
            reasons = [(p, f"{p}: {r}") for p, r in self.invalid[head.entry]]
            self.result.rejections += [Rejection(number, p, r) for p, r in reasons]
            return
        if rtype == "ChargeItem":
            where = f"{head.path}.context"
            reason = f"{where}: is required: the Encounter in the Bundle this charge belongs to"
            self.result.rejections.append(Rejection(number, where, reason))
            self.issues[head.entry].append(issue("error", "required", reason, where))
            return
        mapped: Mapped
        if rtype == "Claim":
            mapped, eid = map_claim(self.index, head, self.profile)
        else:
            mapped, eid = map_encounter(self.index, head, charges, self.profile)
        if eid and eid in self.seen:
            reason = f"this encounter already appears at entry {self.seen[eid] - 1} of this Bundle"
            mapped.problem("encounter_id", mapped.where.get("encounter_id", head.path), reason)
        elif eid:
            self.seen[eid] = number
        encounter, rejections = validate_mapped(mapped, number, eid)
        if encounter is None:
            self.result.rejections += rejections
            for r in rejections:
                found = issue("error", _issue_code(r.reason), r.reason, r.field)
                self.issues[head.entry].append(found)
                # The entry the expression points into (a ChargeItem, the Patient) says it too.
                pointed = _ENTRY.match(r.field)
                if pointed and int(pointed.group(1)) != head.entry and int(pointed.group(1)) in self.issues:
                    self.issues[int(pointed.group(1))].append(found)
            return
        self.result.encounters.append(AcceptedRecord(number, encounter))
        claim_id = claim_id_for(encounter.clinic_id, encounter.encounter_id)
        text = f"accepted: encounter {encounter.encounter_id} is claim {claim_id}"
        self.issues[head.entry].append(issue("information", "informational", text))
        for ch in charges:
            self.issues[ch.entry].append(issue("information", "informational", f"billed in claim {claim_id}"))

    def roll_back(self) -> None:
        """A transaction with any failed entry bills nothing."""
        failed = sorted(i for i, found in self.issues.items() if any(x["severity"] == "error" for x in found))
        if self.kind != "transaction" or not failed:
            return
        why = f"the transaction failed (Bundle.entry[{failed[0]}] has errors): nothing in this Bundle is billed"
        for accepted in self.result.encounters:
            entry = accepted.record_number - 1
            where = f"Bundle.entry[{entry}]"
            self.result.rejections.append(Rejection(accepted.record_number, where, f"{where}: {why}"))
            self.issues[entry] = [issue("error", "processing", f"{where}: {why}", where)]
        self.result.encounters = []

    def response(self) -> dict[str, Any]:
        entries = []
        for i in range(len(self.entries)):
            found = self.issues[i] or [issue("information", "informational", "read as supporting data: nothing billed")]
            error = any(x["severity"] == "error" for x in found)
            status = ("400 Bad Request" if self.invalid[i] else "422 Unprocessable Entity") if error else "200 OK"
            entries.append({"response": {"status": status, "outcome": outcome(found)}})
        kind = "transaction-response" if self.kind == "transaction" else "batch-response"
        return {"resourceType": "Bundle", "type": kind, "entry": entries}


def _load(body: bytes | str | dict[str, Any]) -> Any:
    if isinstance(body, dict):
        return body
    text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    return json.loads(text, parse_float=Decimal)


def read_fhir_bundle(body: bytes | str | dict[str, Any], profile: ClinicProfile) -> FhirIntakeResult:
    """Read one Bundle for the clinic of `profile`. Never raises: an unreadable Bundle is a file error
    (with an OperationOutcome as the response)."""
    try:
        doc = _load(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return failed_bundle(f"not readable JSON ({type(exc).__name__})")
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        return failed_bundle("not a FHIR Bundle (resourceType must be Bundle)")
    if doc.get("type") not in BUNDLE_TYPES:
        return failed_bundle("Bundle.type must be transaction, batch or collection")
    entries = doc.get("entry")
    if not isinstance(entries, list) or not entries:
        return failed_bundle("Bundle.entry is empty: no visits to bill")
    reader = _Reader(entries, profile, str(doc["type"]))
    records = _records(reader.index)
    if not records:
        return failed_bundle("the Bundle has no Claim and no ChargeItem: nothing to bill")
    for head, charges in records:
        try:
            reader.record(head, charges)
        except Exception as exc:  # one visit must not lose the others (the type name only: no PHI)
            reason = f"{head.path}: could not be read ({type(exc).__name__})"
            reader.result.rejections.append(Rejection(head.entry + 1, head.path, reason))
            reader.issues[head.entry].append(issue("error", "exception", reason, head.path))
    reader.roll_back()
    reader.result.response = reader.response()
    return reader.result


def answer_duplicate(response: dict[str, Any], entry: int, claim_id: str, reason: str) -> None:
    """The visit of `entry` was billed earlier (another Bundle or file): its entry and its ChargeItems'
    ("billed in claim ...") answer 409 Conflict with `reason`."""
    entries = response.get("entry")
    if not isinstance(entries, list) or not 0 <= entry < len(entries):
        return
    charges = f"billed in claim {claim_id}"
    for i, found in enumerate(entries):
        issues = found.get("response", {}).get("outcome", {}).get("issue", [])
        if i == entry or any(x.get("diagnostics") == charges for x in issues):
            where = f"Bundle.entry[{i}]"
            found["response"] = {
                "status": "409 Conflict",
                "outcome": outcome([issue("error", "duplicate", f"{where}: {reason}", f"Bundle.entry[{entry}]")]),
            }


def failed_bundle(reason: str) -> FhirIntakeResult:
    where = "Bundle"
    return FhirIntakeResult(
        file_error=reason, format="fhir", response=outcome([issue("error", "invalid", reason, where)])
    )
