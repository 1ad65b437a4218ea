"""Issue 13, item 4 and 8, through the workflow: an attacker who controls a resource cannot make it protected,
and operators protect what they list, IAM paths included; a protected resource is never contained silently.

Each test builds the attacker's (or the operator's) setup first, then reads the effective state back.
"""

from __future__ import annotations

import json

from responder.models.preferences import Mode, RuleActions
from responder_cli.samples import access_key_finding, ec2_finding, s3_finding
from tests.support.victims import eni_groups, make_instance
from tests.workflow.test_containment_workflow import _auto
from tests.workflow.test_resource_kinds_workflow import _rule

C2 = "Backdoor:EC2/C&CActivity.B"
EXFIL = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"


def test_an_exempt_tag_written_by_the_attacker_does_not_stop_containment(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1, tags={"responder:exempt": "true"})
    _auto(responder)

    desc = responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert eni_groups(ec2, victim.enis[0]) != victim.groups[victim.enis[0]]
    notes = [e.detail for e in incident.timeline if e.event == "exempt_tag_ignored"]
    assert notes and "not honoured" in notes[0] and "protectedArns" in notes[0]


def test_a_role_named_like_the_responders_own_is_contained(responder):
    """The responder's roles are exact ARNs: a role the attacker names `ContainmentResponder-...` is not one."""
    iam = responder.session.client("iam")
    iam.create_role(RoleName="ContainmentResponder-Backdoor", AssumeRolePolicyDocument="{}")
    _rule(responder, "roles-auto", ["iam_role"])

    desc = responder.wait(
        responder.start(access_key_finding(EXFIL, user="ContainmentResponder-Backdoor", user_type="AssumedRole"))
    )

    assert desc["status"] == "SUCCEEDED", desc
    assert responder.only_incident().status.value == "CONTAINED"
    assert (
        "responder-revoke-older-sessions"
        in iam.list_role_policies(RoleName="ContainmentResponder-Backdoor")["PolicyNames"]
    )


def test_a_protected_role_with_a_path_is_matched_by_its_real_arn_and_the_team_is_told(responder):
    """The finding names `BreakGlassAdmin`; its ARN is role/breakglass/BreakGlassAdmin (on protectedArns)."""
    iam = responder.session.client("iam")
    iam.create_role(RoleName="BreakGlassAdmin", Path="/breakglass/", AssumeRolePolicyDocument="{}")
    _rule(responder, "roles-auto", ["iam_role"])

    desc = responder.wait(responder.start(access_key_finding(EXFIL, user="BreakGlassAdmin", user_type="AssumedRole")))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "SKIPPED"
    assert "role/breakglass/BreakGlassAdmin is on the protected list" in (incident.skip_reason or "")
    assert iam.list_role_policies(RoleName="BreakGlassAdmin")["PolicyNames"] == []
    email = responder.wait_for_email("[PROTECTED]")
    assert "BreakGlassAdmin" in email.body and "protected list" in email.body


def test_a_contained_bucket_admits_only_exact_principals(responder):
    """The deny's exemptions name the responder's roles exactly: no wildcard an attacker's role could match."""
    s3 = responder.session.client("s3")
    s3.create_bucket(Bucket="exact-exemptions")
    _rule(responder, "buckets-auto", ["s3_bucket"], mode=Mode.AUTO)

    desc = responder.wait(responder.start(s3_finding("Exfiltration:S3/AnomalousBehavior", bucket="exact-exemptions")))

    assert desc["status"] == "SUCCEEDED", desc
    policy = json.loads(s3.get_bucket_policy(Bucket="exact-exemptions")["Policy"])
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    exempt = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert exempt and not any("*" in arn or "?" in arn for arn in exempt), exempt
    assert "arn:aws:iam::123456789012:role/ContainmentResponder-Contain" in exempt


def test_decoys_under_the_reserved_names_are_overwritten_recorded_and_alarmed(responder, capsys):
    """Issue 13, items 1 and 3 through the workflow: the owner wrote `responder-deny-all` as Allow *:* and a
    harmless `responder-revoke-older-sessions`. The incident is CONTAINED only once the documents read back are
    the responder's, the foreign content is in the timeline, and EvidenceOfTampering is emitted (alarmed)."""
    iam = responder.session.client("iam")
    iam.create_role(RoleName="web-role", AssumeRolePolicyDocument="{}")
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    harmless = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]}
    iam.put_role_policy(RoleName="web-role", PolicyName="responder-deny-all", PolicyDocument=json.dumps(allow_all))
    iam.put_role_policy(
        RoleName="web-role", PolicyName="responder-revoke-older-sessions", PolicyDocument=json.dumps(harmless)
    )
    _rule(responder, "roles-auto", ["iam_role"], actions=RuleActions.model_validate({"iam_role": {"deny_all": True}}))

    finding = access_key_finding("CredentialAccess:IAMUser/AnomalousBehavior", user="web-role", user_type="AssumedRole")
    desc = responder.wait(responder.start(finding))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    deny = iam.get_role_policy(RoleName="web-role", PolicyName="responder-deny-all")["PolicyDocument"]
    statements = deny["Statement"] if isinstance(deny["Statement"], list) else [deny["Statement"]]
    assert all(st["Effect"] == "Deny" for st in statements), (deny, [(a.action, a.detail) for a in incident.actions])
    revoke = iam.get_role_policy(RoleName="web-role", PolicyName="responder-revoke-older-sessions")["PolicyDocument"]
    assert "aws:TokenIssueTime" in json.dumps(revoke)
    assert [e.event for e in incident.timeline].count("decoy_policy") >= 1
    assert '"EvidenceOfTampering"' in capsys.readouterr().out


def test_a_high_severity_finding_about_a_vanished_instance_is_emailed_not_dropped(responder):
    """Issue 15, item 6: a SKIPPED high-severity threat (here, its instance no longer exists) reaches the team."""
    desc = responder.wait(responder.start(ec2_finding(C2, instance_id="i-0123456789abcdef0", severity=8.0)))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "SKIPPED" and incident.skip_notice == "unhandled"
    email = responder.wait_for_email("[NOT CONTAINED]")
    assert "does not exist" in email.body


def test_a_low_severity_skip_stays_quiet(responder):
    desc = responder.wait(responder.start(ec2_finding(C2, instance_id="i-0123456789abcdef0", severity=2.0)))

    assert desc["status"] == "SUCCEEDED", desc
    assert responder.only_incident().skip_notice is None
    assert responder.emails() == []
