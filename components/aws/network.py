"""VPC across the three Paris Availability Zones: public subnets for the load balancer only,
private subnets for the containers (outbound through NAT) and isolated subnets for the database."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.iam import policy_document, service_role


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of Network."""

    #: Availability Zones to span; eu-west-3 has three.
    availability_zones: Sequence[str]
    #: KMS key ARN for the flow-log group.
    logs_key_arn: pulumi.Input[str]
    cidr_block: str = "10.40.0.0/16"
    log_retention_days: int = 365
    #: One NAT gateway per zone so that losing a zone does not cut the others off.
    nat_per_zone: bool = True

    def __post_init__(self) -> None:
        network = ipaddress.ip_network(self.cidr_block)  # raises ValueError naming the bad value
        if network.prefixlen > 20:
            raise ValueError(
                f"NetworkArgs.cidr_block: must be /20 or larger to hold 9 subnets (got {self.cidr_block})"
            )
        if not 1 <= len(self.availability_zones) <= 3:
            raise ValueError("NetworkArgs.availability_zones: give 1 to 3 zones")


class Network(pulumi.ComponentResource):
    """The platform's VPC, subnets per tier, routing and VPC flow logs."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    app_subnet_ids: list[pulumi.Output[str]]
    data_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:aws:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        # Lock down the default security group: nothing may use it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=self.vpc.id, ingress=[], egress=[], opts=child
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, opts=child)

        subnets = list(ipaddress.ip_network(args.cidr_block).subnets(new_prefix=24))
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            opts=child,
        )
        self.public_subnet_ids, self.app_subnet_ids, self.data_subnet_ids = [], [], []
        nat_ids: list[pulumi.Output[str]] = []
        for index, zone in enumerate(args.availability_zones):
            suffix = zone[-1]
            public = aws.ec2.Subnet(
                f"{name}-public-{suffix}",
                vpc_id=self.vpc.id,
                cidr_block=str(subnets[index]),
                availability_zone=zone,
                # Nothing launched here gets a public address by default; the load balancer has its own.
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{suffix}", "booking:tier": "public"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{suffix}-rta", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            self.public_subnet_ids.append(public.id)
            if args.nat_per_zone or index == 0:
                eip = aws.ec2.Eip(f"{name}-nat-{suffix}-eip", domain="vpc", opts=child)
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{suffix}", allocation_id=eip.id, subnet_id=public.id, opts=child
                )
                nat_ids.append(nat.id)

            app = aws.ec2.Subnet(
                f"{name}-app-{suffix}",
                vpc_id=self.vpc.id,
                cidr_block=str(subnets[3 + index]),
                availability_zone=zone,
                tags={"Name": f"{name}-app-{suffix}", "booking:tier": "app"},
                opts=child,
            )
            app_rt = aws.ec2.RouteTable(
                f"{name}-app-{suffix}-rt",
                vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat_ids[-1])],
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-app-{suffix}-rta", subnet_id=app.id, route_table_id=app_rt.id, opts=child
            )
            self.app_subnet_ids.append(app.id)

            # Data subnets have no route out of the VPC at all.
            data = aws.ec2.Subnet(
                f"{name}-data-{suffix}",
                vpc_id=self.vpc.id,
                cidr_block=str(subnets[6 + index]),
                availability_zone=zone,
                tags={"Name": f"{name}-data-{suffix}", "booking:tier": "data"},
                opts=child,
            )
            self.data_subnet_ids.append(data.id)

        flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        flow_role = service_role(f"{name}-flow-logs-role", "vpc-flow-logs.amazonaws.com", self)
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=flow_role.id,
            policy=flow_log_group.arn.apply(
                lambda arn: policy_document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": [arn, f"{arn}:*"],
                        }
                    ]
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=flow_log_group.arn,
            iam_role_arn=flow_role.arn,
            opts=child,
        )
        self.vpc_id = self.vpc.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "appSubnetIds": self.app_subnet_ids,
                "dataSubnetIds": self.data_subnet_ids,
            }
        )
