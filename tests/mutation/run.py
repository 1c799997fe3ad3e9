"""`make mutation`: mutmut on the rule modules, one subset (modules + the unit tests that cover them) at a time.

mutmut names a mutant after its file's path (`src/` stripped), and the tests import `medbill.*`, so the
package is staged as build/mutation/<subset>/src/medbill with the tests beside it; the staged
pyproject.toml is this repo's, its [tool.mutmut] narrowed to the subset. Each run starts fresh.

    python -m tests.mutation.run                 # the default subsets (docs/testing.md)
    python -m tests.mutation.run fees status     # some of them
    python -m tests.mutation.run --list          # what each subset mutates and runs
    MUTATION_CHILDREN=2 python -m tests.mutation.run posting   # parallel workers (default 1)

Prints `subset killed/total (score%)` per subset and the survivors (`mutmut show <name>` in the stage
shows one). Exit status 0: the score is reported, not enforced (docs/testing.md lists the accepted ones).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.shared_data import FOLDERS, shared_dir

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "build" / "mutation"
PACKAGE = ROOT / "layers" / "medbill" / "python" / "medbill"
COPIED = ("tests", "testkit", "infra")  # what the unit tests import besides medbill
# Tests of the repository's files rather than of medbill's rules: the stage has no layers/ or scripts/.
IGNORED = ("tests/unit/billing/test_fees_derived.py",)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "cdk.out", ".hypothesis")


@dataclass(frozen=True)
class Subset:
    modules: tuple[str, ...]  # under medbill/
    tests: tuple[str, ...]  # pytest paths: the fast unit tests that cover the modules


SUBSETS: dict[str, Subset] = {
    "fees": Subset(
        ("billing/fees.py",),
        (
            "tests/unit/billing/test_fees.py",
            "tests/unit/billing/test_fees_rounding.py",
            "tests/unit/billing/test_fees_exact.py",
        ),
    ),
    "status": Subset(("models/status.py",), ("tests/unit/models",)),
    "followup": Subset(
        ("billing/followup.py",),
        (
            "tests/unit/billing/test_followup_table.py",
            "tests/unit/billing/test_posting_rules.py",
            "tests/unit/billing/test_coordination_of_benefits.py",
            "tests/unit/posting/test_cob_and_reversal_targets.py",
            "tests/unit/posting/test_mutation_survivors.py",
        ),
    ),
    "validate": Subset(
        ("intake/validate.py",),
        (
            "tests/unit/intake/test_validate_all_problems.py",
            "tests/unit/intake/test_intake_json.py",
            "tests/unit/intake/test_intake_csv.py",
            "tests/unit/intake/test_intake_phi.py",
        ),
    ),
    "era": Subset(("billing/era_queries.py", "billing/era_records.py"), ("tests/unit/posting",)),
    "posting": Subset(
        ("billing/posting.py", "billing/claim_updates.py", "billing/matching.py"),
        ("tests/unit/posting", "tests/unit/billing"),
    ),
    "ledger": Subset(("billing/ledger.py",), ("tests/unit/posting", "tests/unit/billing")),
    "era_ingestion": Subset(
        ("billing/era_ingestion.py", "billing/era_check.py", "billing/era_messages.py"), ("tests/unit/posting",)
    ),
    "coding": Subset(
        (
            "coding/edits.py",
            "coding/rules_lines.py",
            "coding/rules_claim.py",
            "coding/ncci_rules.py",
            "coding/scrubber.py",
            "coding/findings.py",
        ),
        ("tests/unit/coding",),
    ),
    "x12_envelope": Subset(("x12/envelope.py", "x12/interchange.py"), ("tests/unit/x12",)),
    "x12_835": Subset(
        ("x12/remittance835/balancing.py", "x12/remittance835/amounts.py"),
        # Not all of tests/unit/x12: its hypothesis properties (the 835 round trip alone is 50 s) reran on every
        # surviving mutant of a function every 835 read calls; these are the tests that read or write an 835.
        (
            "tests/unit/x12/test_835_reader.py",
            "tests/unit/x12/test_835_amounts_exact.py",
            "tests/unit/x12/test_835_writer.py",
            "tests/unit/x12/test_cli.py",
            "tests/unit/posting/test_era_ingestion.py",
        ),
    ),
}
# Small enough to run on a shared two-core machine in minutes each; the rest by name (docs/testing.md).
DEFAULT = ("fees", "status", "followup", "validate", "era")


def _mutmut_table(subset: Subset) -> str:
    lists = {
        "source_paths": ["src/medbill"],
        "only_mutate": [f"src/medbill/{m}" for m in subset.modules],
        "also_copy": list(COPIED),
        "pytest_add_cli_args_test_selection": list(subset.tests),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-p", "no:xdist"] + [f"--ignore={t}" for t in IGNORED],
    }
    body = "".join(f"{key} = {json.dumps(value)}\n" for key, value in lists.items())
    return f"[tool.mutmut]\n{body}"


def staged_pyproject(subset: Subset) -> str:
    """This repo's pyproject.toml with [tool.mutmut] narrowed to `subset` (everything else as is)."""
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[)", "", text)
    return f"{text.rstrip()}\n\n{_mutmut_table(subset)}"


def stage(name: str, subset: Subset) -> Path:
    where = STAGE / name
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(PACKAGE, where / "src" / "medbill", ignore=_IGNORE)
    for folder in COPIED:
        shutil.copytree(ROOT / folder, where / folder, ignore=_IGNORE)
    (where / "pyproject.toml").write_text(staged_pyproject(subset))
    return where


def shared_folders() -> dict[str, str]:
    """The stage is not next to ../shared: point the sample tests at this checkout's folders by variable."""
    found = {}
    for folder, variable in FOLDERS.items():
        where = shared_dir(folder)
        if variable not in os.environ and where.is_dir():
            found[variable] = str(where)
    return found


def run(name: str, children: int, show: bool = False) -> dict[str, Any]:
    subset = SUBSETS[name]
    where = stage(name, subset)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # medbill only from the stage
    env.update(shared_folders())
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    with (where / "mutmut-run.log").open("w") as log:  # the progress spinner: not for the terminal
        subprocess.run([mutmut, "run", "--max-children", str(children)], cwd=where, env=env, stdout=log, check=False)
    subprocess.run([mutmut, "export-cicd-stats"], cwd=where, env=env, check=True, capture_output=True)
    stats = json.loads((where / "mutants" / "mutmut-cicd-stats.json").read_text())
    listing = subprocess.run([mutmut, "results"], cwd=where, env=env, check=True, capture_output=True, text=True)
    rows = [line.strip() for line in listing.stdout.splitlines() if line.strip()]
    stats["survivors"] = [row for row in rows if not row.endswith(": not checked")]
    stats["not_checked"] = len(rows) - len(stats["survivors"])
    if show:
        for line in stats["survivors"]:
            name = line.split(":")[0]
            shown = subprocess.run([mutmut, "show", name], cwd=where, env=env, capture_output=True, text=True)
            print(shown.stdout)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("subsets", nargs="*", help=f"of: {', '.join(SUBSETS)}")
    parser.add_argument("--list", action="store_true", help="show the subsets and exit")
    parser.add_argument("--show", action="store_true", help="print the diff of every surviving mutant")
    args = parser.parse_args(argv)
    if args.list:
        for name, subset in SUBSETS.items():
            default = " (default)" if name in DEFAULT else ""
            print(f"{name}{default}: {' '.join(subset.modules)} <- {' '.join(subset.tests)}")
        return 0
    unknown = [s for s in args.subsets if s not in SUBSETS]
    if unknown:
        parser.error(f"unknown subsets {unknown}: choose from {', '.join(SUBSETS)}")
    children = int(os.environ.get("MUTATION_CHILDREN", "1"))
    summary = []
    for name in args.subsets or DEFAULT:
        stats = run(name, children, args.show)
        killed, total = int(stats["killed"]), int(stats["total"])
        score = 100 * killed / total if total else 100.0
        counts = ", ".join(f"{k} {v}" for k, v in stats.items() if v and k not in ("killed", "total", "survivors"))
        summary.append(f"{name}: {killed}/{total} killed ({score:.1f}%); {counts}")
        summary += [f"    {line}" for line in stats["survivors"]]
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
