"""Optional VPC mode (context `medbill:vpc=true`): every function runs in private subnets and
reaches AWS through VPC endpoints only.

- Subnets: private isolated (no internet route, no NAT) in two AZs.
- Gateway endpoints: S3, DynamoDB. Interface endpoints (private DNS): SQS, Step Functions, KMS,
  CloudWatch Logs, Secrets Manager, X-Ray (the functions are traced).
- Egress: the functions' security group allows HTTPS to the VPC (interface endpoints) and to the
  S3/DynamoDB prefix lists only. Two functions need the clearinghouse on the internet: the exchange
  (SFTP, docs/decisions.md 14) and eligibility (CAQH CORE over HTTPS, decision 22), which a
  clearinghouse allow-lists by source IP: `medbill:clearinghouse-egress=true` adds egress subnets
  behind one NAT gateway (a fixed IP), used by `CLEARINGHOUSE_FUNCTIONS` only, and
  `clearinghouse_security_group` (SFTP, tcp/22, out) for the exchange. VPC mode without it leaves
  both without a way out: every exchange run fails and every check holds (docs/operations.md).
- Flow logs: all traffic, to a log group encrypted with the logs key.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import config
from infra.constructs.iam import ManagedPolicyRole
from infra.constructs.nag import acknowledge

# Functions that talk to the clearinghouse over the internet: the SFTP exchange, and eligibility's
# CAQH CORE real-time endpoint (HTTPS). With clearinghouse egress they run in the egress subnets.
CLEARINGHOUSE_FUNCTIONS = frozenset({"clearinghouse", "eligibility"})
SFTP_FUNCTIONS = frozenset({"clearinghouse"})
SFTP_PORT = 22
VPC_CIDR = "10.40.0.0/16"  # a literal (not the VPC's token) so security-group rules can be checked at synth
INTERFACE_ENDPOINTS = {
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "StepFunctions": ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
}
FLOW_LOG_RETENTION = logs.RetentionDays.ONE_YEAR


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, logs_key: kms.IKey, clearinghouse_egress: bool) -> None:
        super().__init__(scope, construct_id)
        subnets = [ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)]
        if clearinghouse_egress:
            subnets += [
                ec2.SubnetConfiguration(name="egress", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=28, map_public_ip_on_launch=False
                ),
            ]
        self.clearinghouse_egress = clearinghouse_egress
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,
            nat_gateways=1 if clearinghouse_egress else 0,
            subnet_configuration=subnets,
            restrict_default_security_group=False,  # see the acknowledgement below
        )
        acknowledge(
            self.vpc,
            "HIPAA.Security-VPCDefaultSecurityGroupClosed",
            "Nothing in this VPC can use the default security group: every network interface (the functions' "
            "and the endpoints') is created with its own group above, and CloudFormation cannot attach "
            "resources to the default group on its own. Closing it needs a custom-resource Lambda outside VPC "
            "mode's controls; the rule's risk (traffic through the default group) has no member to apply to.",
        )
        flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            log_group_name=f"/{config.PROJECT}/vpc-flow-logs",
            retention=FLOW_LOG_RETENTION,
            encryption_key=logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        flow_role = ManagedPolicyRole(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="VPC flow logs delivery to the flow-log group",
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group, flow_role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.private_subnets = private
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[private])
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets=[private])
        self.endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup", vpc=self.vpc, description="VPC interface endpoints", allow_all_outbound=False
        )
        self.endpoint_security_group.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "HTTPS from the VPC")
        for endpoint_name, endpoint_service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                endpoint_name,
                service=endpoint_service,
                subnets=private,
                private_dns_enabled=True,
                security_groups=[self.endpoint_security_group],
                open=False,
            )
        self.function_security_group = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=self.vpc,
            description="medbill functions: HTTPS to the VPC endpoints only",
            allow_all_outbound=False,
        )
        self.function_security_group.add_egress_rule(
            ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "HTTPS to the interface endpoints"
        )
        # Isolated subnets route only to the VPC and to the S3/DynamoDB gateway endpoints (their
        # prefix lists), so HTTPS "anywhere" reaches nothing else. Naming the prefix-list ids would
        # need an account lookup at synth.
        self.function_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS via the S3/DynamoDB gateway endpoints (no other route)"
        )

        self.clearinghouse_security_group: ec2.SecurityGroup | None = None
        if clearinghouse_egress:
            self.clearinghouse_security_group = ec2.SecurityGroup(
                self,
                "ClearinghouseSecurityGroup",
                vpc=self.vpc,
                description="clearinghouse exchange: SFTP out through the NAT gateway (fixed IP)",
                allow_all_outbound=False,
            )
            self.clearinghouse_security_group.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(SFTP_PORT), "SFTP to the clearinghouse (allow-listed NAT IP)"
            )
            for subnet in self.vpc.public_subnets:
                acknowledge(
                    subnet,
                    "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
                    "This public subnet holds only the NAT gateway (no function, endpoint or instance, and no "
                    "public IPs assigned on launch): its default route to the internet gateway is the NAT "
                    "gateway's own way out, and nothing reachable from the internet lives behind it.",
                )

    def security_groups_for(self, function: str) -> list[ec2.ISecurityGroup]:
        groups: list[ec2.ISecurityGroup] = [self.function_security_group]
        if self.clearinghouse_security_group is not None and function in SFTP_FUNCTIONS:
            groups.append(self.clearinghouse_security_group)
        return groups

    def subnets_for(self, function: str) -> ec2.SubnetSelection:
        if self.clearinghouse_egress and function in CLEARINGHOUSE_FUNCTIONS:
            return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        return self.private_subnets
