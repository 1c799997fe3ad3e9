"""When a test that needs ../shared skips and when it fails (tests/shared_data.py, docs/testing.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import shared_data


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for env in (shared_data.REQUIRE_ENV, "CI", *shared_data.FOLDERS.values()):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setitem(shared_data._option, "require", False)
    return monkeypatch


def _repo_beside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, with_shared: bool) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    if with_shared:
        (tmp_path / "shared").mkdir()
    monkeypatch.setattr(shared_data, "REPO_ROOT", repo)


@pytest.mark.parametrize(
    ("ci", "with_shared", "expected"),
    [
        ("true", True, True),  # CI with ../shared: a missing folder fails
        ("true", False, False),  # CI without any ../shared: skips with a message
        ("", True, False),  # a developer's machine: skips
        ("", False, False),
    ],
)
def test_ci_requires_shared_data_only_where_the_shared_root_exists(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, ci: str, with_shared: bool, expected: bool
) -> None:
    _repo_beside(tmp_path, clean_env, with_shared=with_shared)
    if ci:
        clean_env.setenv("CI", ci)
    assert shared_data.required() is expected


def test_a_folder_variable_marks_the_data_as_meant_to_be_there(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _repo_beside(tmp_path, clean_env, with_shared=False)
    clean_env.setenv("CI", "true")
    clean_env.setenv("MEDBILL_X12_SAMPLES", str(tmp_path / "moved"))
    assert shared_data.required() is True


def test_the_explicit_switch_requires_the_data_anywhere(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _repo_beside(tmp_path, clean_env, with_shared=False)
    clean_env.setenv(shared_data.REQUIRE_ENV, "1")
    assert shared_data.required() is True


def test_a_renamed_folder_fails_under_ci(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _repo_beside(tmp_path, clean_env, with_shared=True)
    clean_env.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="x12-samples folder not found"):
        shared_data.require_dir("x12-samples")


def test_a_clone_without_shared_skips_with_where_it_looked(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _repo_beside(tmp_path, clean_env, with_shared=False)
    clean_env.setenv("CI", "true")
    with pytest.raises(pytest.skip.Exception, match=r"looked in .*shared/reference-data; set \$MEDBILL_REFERENCE_DATA"):
        shared_data.require_dir("reference-data")
