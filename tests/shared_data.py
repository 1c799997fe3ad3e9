"""The shared data folders next to the repository (../shared, read in place, never copied in): one
place that finds them and decides what a test does when one is missing.

Each folder is ../shared/<name> or the directory in its environment variable. When it is missing a
test that needs it skips with where it looked, unless shared data is required: `MEDBILL_REQUIRE_SHARED=1`
or `pytest --require-shared`, and then it fails (docs/testing.md: for a machine that has ../shared,
so a moved or renamed folder cannot turn 70-odd tests into silent skips).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REQUIRE_ENV = "MEDBILL_REQUIRE_SHARED"
# ../shared/<folder> -> the environment variable that points elsewhere
FOLDERS = {
    "x12-samples": "MEDBILL_X12_SAMPLES",
    "intake-samples": "MEDBILL_INTAKE_SAMPLES",
    "reference-data": "MEDBILL_REFERENCE_DATA",
}
_option = {"require": False}  # set from --require-shared by tests/conftest.py


def set_required_by_option(value: bool) -> None:
    _option["require"] = value


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def required() -> bool:
    """Missing shared data fails the test instead of skipping it.

    Always with MEDBILL_REQUIRE_SHARED=1 / --require-shared. Under CI=true, whenever the shared root
    (../shared, or a folder named by a variable) is there: a CI machine that has the data cannot lose
    a moved or renamed folder to silent skips, and a CI machine without any ../shared still skips
    with a message instead of failing every run.
    """
    if _option["require"] or _truthy(REQUIRE_ENV):
        return True
    return _truthy("CI") and shared_root_present()


def shared_root_present() -> bool:
    """../shared exists, or some shared folder variable is set (the machine is meant to have the data)."""
    return (REPO_ROOT.parent / "shared").is_dir() or any(os.environ.get(env) for env in FOLDERS.values())


def shared_dir(name: str) -> Path:
    """Where the shared folder `name` is (it may not exist): $<its variable>, else ../shared/<name>."""
    override = os.environ.get(FOLDERS[name])
    return Path(override) if override else REPO_ROOT.parent / "shared" / name


def missing(what: str, looked: Path, env: str | None = None) -> NoReturn:
    """Skip (or fail, when shared data is required) saying what was not found and where."""
    hint = f"; set ${env}" if env else ""
    message = f"{what} not found (looked in {looked}{hint})"
    if required():
        pytest.fail(f"{message}: shared data is required ({REQUIRE_ENV}=1 or --require-shared)", pytrace=False)
    pytest.skip(message)


def require_dir(name: str, *parts: str) -> Path:
    """The shared folder `name` (or a folder inside it), or skip / fail when it is not there."""
    folder = shared_dir(name).joinpath(*parts)
    if not folder.is_dir():
        missing(f"shared {'/'.join((name, *parts))} folder", folder, FOLDERS[name])
    return folder


def require_files(name: str, *paths: str) -> list[Path]:
    """Files inside the shared folder `name`, or skip / fail when any is missing."""
    found = [shared_dir(name) / p for p in paths]
    for path in found:
        if not path.is_file():
            missing(f"shared file {name}/{path.relative_to(shared_dir(name))}", path, FOLDERS[name])
    return found
