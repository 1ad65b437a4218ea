"""AWS adapters for an incident's resource: clients for its account and region."""

from __future__ import annotations

from responder.adapters.accounts import AccountClients
from responder.adapters.ec2 import Ec2Gateway
from responder.adapters.iam import IamGateway
from responder.adapters.s3 import S3Gateway
from responder.adapters.waf import IpSetRef, WafGateway
from responder.models.incident import Incident


class AwsGateways:
    def __init__(self, accounts: AccountClients | None = None) -> None:
        self.accounts = accounts or AccountClients(None, "", None)

    def _client(self, service: str, incident: Incident, region: str | None = None) -> object:
        return self.accounts.client(service, incident.resource.account, region or incident.resource.region)

    def ec2(self, incident: Incident) -> Ec2Gateway:
        return Ec2Gateway(
            self._client("ec2", incident), self._client("autoscaling", incident), self._client("elbv2", incident)
        )

    def iam(self, incident: Incident) -> IamGateway:
        return IamGateway(self._client("iam", incident))

    def s3(self, incident: Incident) -> S3Gateway:
        return S3Gateway(self._client("s3", incident))

    def waf(self, ip_set_arn: str) -> WafGateway:
        """Clients for the IP set's own account and region (read from its ARN): a set in the security
        account serves incidents in every member account."""
        ref = IpSetRef.parse(ip_set_arn)
        return WafGateway(self.accounts.client("wafv2", ref.account, ref.region))

    def account_alias(self, incident: Incident) -> str | None:
        return self.accounts.account_alias(incident.resource.account, incident.resource.region)
