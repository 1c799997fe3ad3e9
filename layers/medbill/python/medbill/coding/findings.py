"""What the scrubber reports: findings that name their rule and the reference data behind them.

A finding's message quotes only rule names, CPT/HCPCS codes, modifiers, unit counts, line numbers,
code-list codes and data versions. Diagnosis codes are PHI here: a finding names the diagnosis by its
position ("diagnosis 2"), never by its code. Tax ids, names and addresses are never quoted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["hold", "info"]
HOLD: Severity = "hold"
INFO: Severity = "info"


@dataclass(frozen=True)
class Finding:
    rule_id: str  # stable id, e.g. "NCCI-PTP"; docs/scrubber.md lists every rule
    severity: Severity  # hold: a person must act before the claim moves on; info: recorded only
    message: str  # starts with the data version when the rule rests on reference data
    data_version: str | None = None  # e.g. "NCCI PTP 2024Q3", "CMS POS 2024-06", "837P 005010X222A1"
    line: int | None = None  # 1-based service line the finding is about, if any

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "message": self.message,
            "data_version": self.data_version,
            "line": self.line,
        }


def finding(
    rule_id: str,
    message: str,
    data_version: str | None,
    *,
    line: int | None = None,
    severity: Severity = HOLD,
    prefix: bool = True,
) -> Finding:
    """A finding whose message is prefixed with its data version ("NCCI MUE 2024Q3: ...") unless
    `prefix` is False (the message names its data already: "not on clinic X's fee schedule")."""
    text = f"{data_version}: {message}" if data_version and prefix else message
    return Finding(rule_id, severity, text, data_version, line)


@dataclass(frozen=True)
class ScrubResult:
    findings: tuple[Finding, ...]
    # The reference data in force for this claim, by kind: store it on the claim's coding record.
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def holds(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == HOLD]

    @property
    def reasons(self) -> list[str]:
        """Hold messages, in order: the claim's hold reasons (empty = clean)."""
        return [f.message for f in self.holds]

    @property
    def clean(self) -> bool:
        return not self.holds

    def as_dict(self) -> dict[str, object]:
        return {"findings": [f.as_dict() for f in self.findings], "versions": dict(self.versions)}
