"""AWS adapters for an incident's resource, built from boto3 clients for its region."""

from __future__ import annotations

from responder.adapters.aws import client
from responder.adapters.ec2 import Ec2Gateway
from responder.adapters.iam import IamGateway
from responder.adapters.s3 import S3Gateway
from responder.adapters.waf import WafGateway
from responder.models.incident import Incident


class AwsGateways:
    def ec2(self, incident: Incident) -> Ec2Gateway:
        region = incident.resource.region
        return Ec2Gateway(client("ec2", region), client("autoscaling", region), client("elbv2", region))

    def iam(self, incident: Incident) -> IamGateway:
        return IamGateway(client("iam", incident.resource.region))

    def s3(self, incident: Incident) -> S3Gateway:
        return S3Gateway(client("s3", incident.resource.region))

    def waf(self, incident: Incident, region: str) -> WafGateway:
        return WafGateway(client("wafv2", region))
