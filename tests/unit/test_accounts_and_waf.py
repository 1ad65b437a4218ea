"""Which account and region the responder calls: WAF IP sets by their own ARN, STS in the function's region."""

from __future__ import annotations

import pytest

from responder.adapters import accounts as accounts_module
from responder.adapters.accounts import AccountClients
from responder.adapters.aws import client
from responder.adapters.gateways import AwsGateways
from responder.adapters.waf import IpSetRef, WafGateway
from responder.domain import kinds
from responder.domain import waf as waf_domain
from responder.domain.recorder import Recorder
from responder.models.common import ResourceType
from responder.models.incident import FindingSummary, Incident, RestoreOptions, Status
from responder.models.resource import ResourceRef
from tests.support import kinds as k

OWN = "123456789012"
MEMBER = "222222222222"


def _member_user_incident(accounts: AccountClients, ip_set_arn: str) -> tuple[Incident, kinds.Settings]:
    iam = accounts.client("iam", MEMBER, "us-east-1")
    iam.create_user(UserName="leaky")
    iam.create_policy(PolicyName=k.SETTINGS.deny_all_policy_name, PolicyDocument=k.DENY_ALL)
    incident = Incident(
        incident_id="inc-member-waf",
        status=Status.NEW,
        resource=ResourceRef(type=ResourceType.IAM_USER, id="leaky", account=MEMBER, region="us-east-1"),
        findings={"f1": FindingSummary(id="f1", type="Test:IAMUser/Test", severity=8.0, remote_ip="198.51.100.23")},
    )
    decision = k.decision(waf_ip_set_arn=ip_set_arn)
    gws = AwsGateways(accounts)
    plan = kinds.plan(gws, incident, decision, k.SETTINGS)
    incident.decision, incident.plan, incident.impact = decision, plan.actions, plan.impact
    incident.pre_state, incident.waf, incident.status = plan.pre_state, plan.waf, Status.CONTAINING
    return incident, k.SETTINGS


def test_an_ip_set_in_the_security_account_serves_a_member_account_incident(aws):
    wafv2 = client("wafv2", "us-east-1")  # the responder's own account
    arn = wafv2.create_ip_set(Name="blocklist", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[])["Summary"][
        "ARN"
    ]
    accounts = AccountClients(OWN, "ContainmentResponderMember", "ext-123")
    incident, settings = _member_user_incident(accounts, arn)
    assert incident.waf is not None, incident.impact

    gws = AwsGateways(accounts)
    rec = Recorder()
    kinds.contain(gws, incident, incident.decision, settings, rec)
    rec.flush_into(incident)
    name, set_id = arn.split("/")[-2:]
    assert wafv2.get_ip_set(Name=name, Scope="REGIONAL", Id=set_id)["IPSet"]["Addresses"] == ["198.51.100.23/32"]
    assert kinds.verify(gws, incident, incident.decision, settings) == []

    rec = Recorder()
    kinds.restore(gws, incident, settings, RestoreOptions(), False, rec)
    assert wafv2.get_ip_set(Name=name, Scope="REGIONAL", Id=set_id)["IPSet"]["Addresses"] == []


def test_waf_clients_are_chosen_by_the_ip_sets_account_and_region(aws, monkeypatch):
    chosen: list[tuple[str, str, str]] = []
    accounts = AccountClients(OWN, "ContainmentResponderMember", "ext-123")
    monkeypatch.setattr(accounts, "client", lambda service, account, region: chosen.append((service, account, region)))
    gws = AwsGateways(accounts)
    gws.waf(f"arn:aws:wafv2:eu-west-1:{OWN}:regional/ipset/blocklist/abc")
    gws.waf(f"arn:aws:wafv2:us-east-1:{MEMBER}:global/ipset/edge/def")
    assert chosen == [("wafv2", OWN, "eu-west-1"), ("wafv2", MEMBER, "us-east-1")]
    assert IpSetRef.parse(f"arn:aws:wafv2:us-east-1:{MEMBER}:global/ipset/edge/def").scope == "CLOUDFRONT"


def test_update_ip_set_keeps_the_description(aws):
    wafv2 = client("wafv2", "us-east-1")
    arn = wafv2.create_ip_set(
        Name="blocklist", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[], Description="SOC blocklist"
    )["Summary"]["ARN"]
    rec = Recorder()
    change, _ = waf_domain.plan(WafGateway(wafv2), arn, "203.0.113.9")
    assert change is not None

    waf_domain.block(WafGateway(wafv2), change, rec)

    name, set_id = arn.split("/")[-2:]
    ip_set = wafv2.get_ip_set(Name=name, Scope="REGIONAL", Id=set_id)["IPSet"]
    assert ip_set["Addresses"] == ["203.0.113.9/32"]
    assert ip_set.get("Description") == "SOC blocklist"


@pytest.mark.parametrize("resource_region", ["ap-east-1", "me-central-1", "us-east-1"])
def test_member_role_is_assumed_through_sts_in_the_functions_own_region(aws, monkeypatch, resource_region):
    """An opt-in region the responder's account has not enabled has no STS for it: the role is assumed
    through the regional endpoint of the region the function runs in, whatever the resource's region."""
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    sts_regions: list[str | None] = []
    real_client = accounts_module.client

    def spy(service: str, region: str | None = None, session=None):
        made = real_client(service, region, session)
        if service == "sts" and session is None:
            sts_regions.append(made.meta.region_name)
            assert made.meta.endpoint_url == f"https://sts.{made.meta.region_name}.amazonaws.com"
        return made

    monkeypatch.setattr(accounts_module, "client", spy)
    accounts = AccountClients(OWN, "ContainmentResponderMember", "ext-123")

    member = accounts.client("ec2", MEMBER, resource_region)

    assert sts_regions == ["eu-west-1"]
    assert member.meta.region_name == resource_region
