"""Clinic profiles: one JSON file per clinic (`config/clinics/<clinic_id>.json`), validated like
encounters (every problem names its field, never the value) and cached per cold start.

The cache keeps a profile `ttl` seconds (default 60): a profile put through the API takes effect at
once in the function that put it and within a minute everywhere else. Only found, valid profiles are
cached: a clinic's first profile is seen by the next file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from medbill.models.clinic_profile import ClinicProfile
from medbill.ports import ClinicProfileFiles
from medbill.prefixes import CLINIC_PROFILES_PREFIX, ENCOUNTERS_PREFIX

CACHE_SECONDS = 60.0
# Dict fields whose keys are ids of the clinic's (NPIs, payer ids, points of care): a key is a value.
_KEYED = (("providers",), ("payers",), ("hl7", "locations"))


def profile_key(clinic_id: str) -> str:
    return f"{CLINIC_PROFILES_PREFIX}{clinic_id}.json"


def clinic_of_key(key: str) -> str | None:
    """The clinic folder of an encounter file: `encounters/<clinic_id>/<file>` -> clinic_id (else None)."""
    if not key.startswith(ENCOUNTERS_PREFIX):
        return None
    parts = key.removeprefix(ENCOUNTERS_PREFIX).split("/")
    folder = parts[0] if len(parts) >= 2 else ""
    return folder if folder and len(folder) <= 30 and folder.replace("-", "").replace("_", "").isalnum() else None


class ProfileNotFound(Exception):
    def __init__(self, clinic_id: str) -> None:
        where = f"{profile_key(clinic_id)} or PUT /clinics/{clinic_id}/profile"
        super().__init__(f"clinic {clinic_id} has no profile: put one at {where}")
        self.clinic_id = clinic_id


class InvalidProfile(ValueError):
    """A profile that does not validate: names each field and what is wrong, never a value."""

    def __init__(self, clinic_id: str, problems: list[tuple[str, str]]) -> None:
        self.clinic_id = clinic_id
        self.problems = problems
        listed = "; ".join(f"{field}: {reason}" for field, reason in problems)
        super().__init__(f"the profile of clinic {clinic_id} is not valid: {listed}")


def _path(loc: tuple[int | str, ...]) -> str:
    parts = [str(p + 1) if isinstance(p, int) else str(p) for p in loc]
    for keyed in _KEYED:
        n = len(keyed)
        if tuple(parts[:n]) == keyed and len(parts) > n:
            # The key itself is a value (an NPI, a payer id): "providers.<key>" for what a key maps to,
            # "providers.[key]" for the key.
            parts[n : n + 2] = ["[key]"] if parts[n + 1 : n + 2] == ["[key]"] else ["<key>", *parts[n + 1 : n + 2]]
    return ".".join(parts) or "profile"


def _reason(error: Any) -> str:
    kind, msg = error["type"], str(error["msg"])
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of the clinic profile (check the spelling)"
    return msg.removeprefix("Value error, ")


def parse_profile(clinic_id: str, document: Any) -> ClinicProfile:
    """The profile of `clinic_id` from its JSON document (bytes, text or parsed); InvalidProfile otherwise."""
    if isinstance(document, bytes | str):
        try:
            document = json.loads(document)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise InvalidProfile(clinic_id, [("profile", "is not valid JSON")]) from None
    if not isinstance(document, dict):
        raise InvalidProfile(clinic_id, [("profile", "is not a JSON object")])
    try:
        profile = ClinicProfile.model_validate(document)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        raise InvalidProfile(clinic_id, [(_path(tuple(e["loc"])), _reason(e)) for e in errors]) from None
    if profile.clinic_id != clinic_id:
        raise InvalidProfile(clinic_id, [("clinic_id", f"must be {clinic_id}, the clinic the profile is stored for")])
    return profile


class ClinicProfiles:
    """The clinics' profiles through the port, cached `ttl` seconds."""

    def __init__(
        self, files: ClinicProfileFiles, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.files, self.ttl, self.clock = files, ttl, clock
        self._cache: dict[str, tuple[float, ClinicProfile]] = {}

    def find(self, clinic_id: str) -> ClinicProfile | None:
        """The clinic's profile, None when it has none; InvalidProfile when the stored one is bad."""
        cached = self._cache.get(clinic_id)
        if cached is not None and self.clock() - cached[0] < self.ttl:
            return cached[1]
        body = self.files.read_profile(clinic_id)
        if body is None:
            self._cache.pop(clinic_id, None)
            return None
        profile = parse_profile(clinic_id, body)
        self._cache[clinic_id] = (self.clock(), profile)
        return profile

    def get(self, clinic_id: str) -> ClinicProfile:
        profile = self.find(clinic_id)
        if profile is None:
            raise ProfileNotFound(clinic_id)
        return profile

    def put(self, clinic_id: str, document: Any) -> ClinicProfile:
        """Validate and store the clinic's profile (as the model writes it: defaults filled in)."""
        profile = parse_profile(clinic_id, document)
        body = json.dumps(profile.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
        self.files.write_profile(clinic_id, body.encode())
        self._cache[clinic_id] = (self.clock(), profile)
        return profile
