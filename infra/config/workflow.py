"""The claim state machine: its name, its waits (days in production, seconds in tests) and the
values of claim.asl.json's placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.names import ASL_PATH

# --- Step Functions -------------------------------------------------------------------------------
STATE_MACHINE_NAME = "medbill-claim"


@dataclass(frozen=True)
class WorkflowTimeouts:
    """Waits in the claim state machine. Days in production, seconds in tests."""

    remittance_wait_seconds: int  # Submit -> 835 posted; then the claim goes to follow-up
    staff_hold_seconds: int  # a claim on hold waits this long for a person
    retry_interval_seconds: int  # first Lambda retry interval (backoff 2x)
    # Longest wait between retries of our transient errors (ConcurrentUpdate, AwsThrottled, ...):
    # 4 attempts with full jitter, 2x backoff, capped here.
    retry_max_delay_seconds: int = 2

    @classmethod
    def production(cls) -> WorkflowTimeouts:
        return cls(
            remittance_wait_seconds=45 * 24 * 3600,
            staff_hold_seconds=30 * 24 * 3600,
            retry_interval_seconds=2,
            retry_max_delay_seconds=60,
        )

    @classmethod
    def local(cls) -> WorkflowTimeouts:
        return cls(remittance_wait_seconds=120, staff_hold_seconds=600, retry_interval_seconds=1)


# ASL placeholder -> FUNCTIONS key. The ASL file names every Lambda through these.
ASL_FUNCTION_SUBSTITUTIONS = {
    "RegistrationFunctionArn": "registration",
    "EligibilityFunctionArn": "eligibility",
    "CodingFunctionArn": "coding",
    "ChargesFunctionArn": "charges",
    "SubmissionFunctionArn": "submission",
    "AwaitTokenFunctionArn": "await_token",
    "FollowupFunctionArn": "followup",
}


def asl_substitutions(function_arns: dict[str, str], timeouts: WorkflowTimeouts) -> dict[str, str]:
    """Values for every `${Name}` placeholder in claim.asl.json."""
    subs = {placeholder: function_arns[fn] for placeholder, fn in ASL_FUNCTION_SUBSTITUTIONS.items()}
    subs["RemittanceWaitSeconds"] = str(timeouts.remittance_wait_seconds)
    subs["StaffHoldSeconds"] = str(timeouts.staff_hold_seconds)
    subs["RetryIntervalSeconds"] = str(timeouts.retry_interval_seconds)
    subs["RetryMaxDelaySeconds"] = str(timeouts.retry_max_delay_seconds)
    return subs


def render_asl(substitutions: dict[str, str]) -> str:
    """The ASL text with placeholders filled, as CloudFormation's DefinitionSubstitutions would."""
    text = ASL_PATH.read_text()
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    if "${" in text:
        raise ValueError("claim.asl.json has a placeholder with no value: " + text[text.index("${") :][:40])
    return text
