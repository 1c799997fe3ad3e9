"""The clearinghouse's credentials in Secrets Manager: SFTP (the exchange) and CAQH CORE (real-time
eligibility). Created empty of real values: an operator puts the clearinghouse's JSON after the first
deploy (docs/operations.md, "Clearinghouse secrets"); until then the exchange fails its runs (the
schedule retries) and eligibility checks hold as `ELIG-UNAVAILABLE` (never lost).

Encrypted with the data key (the secrets hold passwords and the SFTP host key, and the functions
already reach that key through `kms:ViaService`). The values' layout: `adapters.sftp.SftpSecret` and
`adapters.eligibility_core.CoreSecret`.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import config
from infra.constructs.nag import acknowledge

ROTATION_REASON = (
    "The secret holds credentials the clearinghouse issues (an SFTP account and its host key, a CORE "
    "endpoint user): a new value exists only when the clearinghouse issues one, so no Lambda can rotate it "
    "on a schedule. Operators put the new value when the clearinghouse changes it (docs/operations.md); "
    "every function reads it at cold start, so the next cold start uses it."
)


class Secrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for name, construct_name in (
            (config.CLEARINGHOUSE_SECRET_NAME, "ClearinghouseSftp"),
            (config.ELIGIBILITY_SECRET_NAME, "ClearinghouseCore"),
        ):
            secret = secretsmanager.Secret(
                self,
                construct_name,
                secret_name=name,
                description=f"{config.PROJECT}: clearinghouse credentials ({construct_name}); values by an operator",
                encryption_key=key,
                removal_policy=RemovalPolicy.RETAIN,
            )
            acknowledge(secret, "AwsSolutions-SMG4", ROTATION_REASON)
            acknowledge(secret, "HIPAA.Security-SecretsManagerRotationEnabled", ROTATION_REASON)
            self.secrets[name] = secret

    def arn(self, name: str) -> str:
        return self.secrets[name].secret_arn
