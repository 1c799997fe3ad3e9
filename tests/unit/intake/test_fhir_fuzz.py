"""Hypothesis on the FHIR reader: a Bundle with fields deleted or replaced by junk never crashes it; every
visit ends as an encounter or as rejections with a FHIRPath; no PHI in the report; one outcome per entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ehr_builders import CANARIES, fhir_bundle, profile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medbill.intake import intake_report, read_fhir_bundle

PROFILE = profile()
JUNK = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.just({}),
    st.just([{}]),
    st.just({"reference": "urn:uuid:p1"}),
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


PATHS = [p for p in _paths(fhir_bundle("batch")) if len(p) > 2]  # inside an entry


def _edit(bundle: dict[str, Any], path: tuple[Any, ...], delete: bool, junk: Any) -> None:
    node: Any = bundle
    try:
        for key in path[:-1]:
            node = node[key]
        if delete:
            del node[path[-1]]
        else:
            node[path[-1]] = junk
    except (KeyError, IndexError, TypeError):
        pass  # an earlier edit removed the way there


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(PATHS), st.booleans(), JUNK), max_size=4),
    st.sampled_from(["batch", "transaction", "collection"]),
)
def test_mangled_bundles(edits: list[tuple[tuple[Any, ...], bool, Any]], kind: str) -> None:
    bundle = fhir_bundle(kind)
    for path, delete, junk in edits:
        _edit(bundle, path, delete, junk)
    result = read_fhir_bundle(json.dumps(bundle).encode(), PROFILE)
    if result.file_error is not None:
        assert result.encounters == [] and result.response["resourceType"] == "OperationOutcome"
        return
    accepted = {a.record_number for a in result.encounters}
    rejected = set(result.rejected_records)
    assert not accepted & rejected and len(accepted | rejected) == result.records
    assert all(r.field.startswith("Bundle") and r.reason.startswith(r.field) for r in result.rejections)
    assert len(result.response["entry"]) == len(bundle["entry"])
    text = json.dumps(intake_report("b.json", result)).lower()
    for canary in CANARIES:
        assert canary.lower() not in text, canary
