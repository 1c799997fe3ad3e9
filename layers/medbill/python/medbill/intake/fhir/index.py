"""The resources of one Bundle, found by reference the way FHIR resolves them, with their FHIRPath.

A reference is resolved against the entries' fullUrl, against `Type/id` of the entries' resources
(relative references, also when fullUrl is a urn:uuid), and `#id` against the referring resource's
contained resources. Every resource comes with the FHIRPath expression that locates it in the Bundle,
so a problem is reported where it is: `Bundle.entry[3].resource.birthDate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"


@dataclass(frozen=True)
class Found:
    resource: dict[str, Any]
    path: str  # FHIRPath of the resource: "Bundle.entry[3].resource" or "...resource.contained[0]"
    entry: int  # index of the Bundle entry that holds it


class BundleIndex:
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries
        self._by_key: dict[str, Found] = {}
        for i, entry in enumerate(entries):
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            found = Found(resource, f"Bundle.entry[{i}].resource", i)
            if isinstance(entry.get("fullUrl"), str):
                self._by_key.setdefault(entry["fullUrl"], found)
            rtype, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(rtype, str) and isinstance(rid, str):
                self._by_key.setdefault(f"{rtype}/{rid}", found)
                self._by_key.setdefault(f"urn:uuid:{rid}", found)

    def of_type(self, rtype: str) -> list[Found]:
        return [
            Found(e["resource"], f"Bundle.entry[{i}].resource", i)
            for i, e in enumerate(self.entries)
            if isinstance(e.get("resource"), dict) and e["resource"].get("resourceType") == rtype
        ]

    def resolve(self, reference: Any, holder: Found) -> Found | None:
        """The resource a Reference points at, or None (absent, external or not in the Bundle)."""
        ref = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(ref, str) or not ref:
            return None
        if ref.startswith("#"):
            for k, res in enumerate(holder.resource.get("contained") or []):
                if isinstance(res, dict) and res.get("id") == ref[1:]:
                    return Found(res, f"{holder.path}.contained[{k}]", holder.entry)
            # A contained resource may refer to another resource contained in the same parent.
            parent = self.entries[holder.entry].get("resource") if holder.entry < len(self.entries) else None
            if isinstance(parent, dict) and parent is not holder.resource:
                return self.resolve(reference, Found(parent, f"Bundle.entry[{holder.entry}].resource", holder.entry))
            return None
        found = self._by_key.get(ref)
        if found is None and "/" in ref:  # an absolute URL ending in Type/id
            found = self._by_key.get("/".join(ref.rstrip("/").split("/")[-2:]))
        return found

    def refers_to(self, reference: Any, target: Found, holder: Found) -> bool:
        found = self.resolve(reference, holder)
        return found is not None and found.resource is target.resource


def identifiers(resource: dict[str, Any] | None, reference: Any = None) -> list[str]:
    """Identifier values of a resource and of a Reference's own `identifier`."""
    values: list[str] = []
    for ident in (resource or {}).get("identifier") or []:
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            values.append(ident["value"])
    if isinstance(reference, dict) and isinstance(reference.get("identifier"), dict):
        value = reference["identifier"].get("value")
        if isinstance(value, str):
            values.append(value)
    return values


def npi_of(resource: dict[str, Any] | None) -> tuple[int, str] | None:
    """(index, value) of the resource's NPI identifier."""
    for k, ident in enumerate((resource or {}).get("identifier") or []):
        if isinstance(ident, dict) and ident.get("system") == NPI_SYSTEM and isinstance(ident.get("value"), str):
            return k, ident["value"]
    return None
