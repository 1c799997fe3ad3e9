"""The in-memory fakes of every port now live in `testkit/fakes.py`, shared by the tests and the
benchmarks (bench/ may not import tests/): this module keeps the tests' imports working."""

from testkit.fakes import (
    CollectingQueue,
    FakeAccessAudit,
    FakeArtifacts,
    FakeClinicProfileFiles,
    FakeEligibility,
    FakeStore,
    FakeWorkflow,
    IntakeContinuations,
    ReleaseRequests,
    racing,
)

__all__ = [
    "CollectingQueue",
    "FakeAccessAudit",
    "FakeArtifacts",
    "FakeClinicProfileFiles",
    "FakeEligibility",
    "FakeStore",
    "FakeWorkflow",
    "IntakeContinuations",
    "ReleaseRequests",
    "racing",
]
