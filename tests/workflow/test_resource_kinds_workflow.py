"""IAM users and roles, S3 buckets and the root user, through the synthesized workflows in moto."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from responder.adapters.preferences import PreferenceStore
from responder.models.preferences import Mode, Rule, RuleMatch
from responder_cli.samples import access_key_finding, s3_finding
from tests.workflow.test_containment_workflow import _approve

EXFIL = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"


def _rule(responder, rule_id: str, kinds: list[str], mode: Mode = Mode.AUTO, **kw) -> None:
    store = PreferenceStore(responder.stack.outputs["PreferencesTable"], responder.session.client("dynamodb"))
    store.put(Rule(id=rule_id, priority=10, match=RuleMatch(resource_types=kinds), mode=mode, **kw))


def test_iam_user_contained_then_restored_keeping_the_key_inactive(responder):
    iam = responder.session.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    _rule(responder, "users-auto", ["iam_user"])

    event = access_key_finding(
        "CredentialAccess:IAMUser/AnomalousBehavior", user="alice", access_key_id=key, severity=8
    )
    desc = responder.wait(responder.start(event))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED" and incident.resource.type.value == "iam_user"
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    attached = [p["PolicyName"] for p in iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]]
    assert attached == ["ContainmentResponder-deny-all"]

    assert responder.wait(responder.restore(incident.incident_id))["status"] == "SUCCEEDED"
    restored = responder.store.get(incident.incident_id)
    assert restored.status.value == "RESTORED"
    assert any("stay inactive" in line for line in restored.restore_report)
    assert iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"] == []
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"][0]["Status"] == "Inactive"


def test_restore_can_reactivate_keys_and_lift_revocation_when_asked(responder):
    iam = responder.session.client("iam")
    iam.create_user(UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    _rule(responder, "users-auto", ["iam_user"])
    responder.wait(
        responder.start(access_key_finding("CredentialAccess:IAMUser/AnomalousBehavior", user="bob", access_key_id=key))
    )
    incident = responder.only_incident()
    execution = responder.sfn.start_execution(
        stateMachineArn=responder.stack.outputs["RestoreStateMachine"],
        name="full-restore",
        input=json.dumps(
            {"incident_id": incident.incident_id, "reactivate_keys": True, "lift_session_revocation": True}
        ),
    )["executionArn"]
    assert responder.wait(execution)["status"] == "SUCCEEDED"
    assert iam.list_access_keys(UserName="bob")["AccessKeyMetadata"][0]["Status"] == "Active"
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == []


def test_credential_exfiltration_contains_the_role_behind_the_session(responder):
    iam = responder.session.client("iam")
    iam.create_role(RoleName="web-instance-role", AssumeRolePolicyDocument="{}")
    _rule(responder, "roles-auto", ["iam_role"])

    desc = responder.wait(responder.start(access_key_finding(EXFIL, user="web-instance-role", user_type="AssumedRole")))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.resource.type.value == "iam_role" and incident.status.value == "CONTAINED"
    assert iam.list_role_policies(RoleName="web-instance-role")["PolicyNames"] == ["responder-revoke-older-sessions"]


def test_the_responders_own_role_is_never_contained(responder):
    iam = responder.session.client("iam")
    own = next(r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("ContainmentResponder-"))
    before = iam.list_role_policies(RoleName=own)["PolicyNames"]
    _rule(responder, "roles-auto", ["iam_role"])

    desc = responder.wait(responder.start(access_key_finding(EXFIL, user=own, user_type="AssumedRole")))

    assert desc["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "SKIPPED" and "responder's own resources" in incident.skip_reason
    assert iam.list_role_policies(RoleName=own)["PolicyNames"] == before


def test_root_findings_notify_only(responder):
    desc = responder.wait(
        responder.start(access_key_finding("Policy:IAMUser/RootCredentialUsage", user="Root", user_type="Root"))
    )

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "NOTIFIED" and incident.resource.type.value == "iam_root"
    email = responder.wait_for_email("[NOTIFY ONLY]")
    assert "cannot be contained by an IAM policy" in email.body


def test_s3_bucket_contained_after_approval_and_restored(responder):
    s3 = responder.session.client("s3")
    s3.create_bucket(Bucket="customer-exports")
    original = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                                 "Action": "s3:GetObject", "Resource": "arn:aws:s3:::customer-exports/*"}]}
    )  # fmt: skip
    s3.put_bucket_policy(Bucket="customer-exports", Policy=original)
    execution = responder.start(s3_finding("Exfiltration:S3/AnomalousBehavior", bucket="customer-exports"))
    email = responder.wait_for_email("[APPROVAL NEEDED]")
    assert "customer-exports" in email.body and "deny-all statement" in email.body

    assert _approve(responder, email)[0] == 200
    assert responder.wait(execution)["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    statements = json.loads(s3.get_bucket_policy(Bucket="customer-exports")["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["Partner", "ResponderContainmentDenyAll"]

    assert responder.wait(responder.restore(incident.incident_id))["status"] == "SUCCEEDED"
    assert s3.get_bucket_policy(Bucket="customer-exports")["Policy"] == original


def test_dry_run_plans_records_and_emails_but_changes_nothing(responder):
    s3 = responder.session.client("s3")
    s3.create_bucket(Bucket="dry-bucket")
    _rule(responder, "dry", ["s3_bucket"], dry_run=True)

    desc = responder.wait(responder.start(s3_finding("Exfiltration:S3/AnomalousBehavior", bucket="dry-bucket")))

    assert desc["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "NOTIFIED" and incident.plan and incident.pre_state is not None
    assert incident.actions == []
    assert "Dry run" in responder.wait_for_email("[NOTIFY ONLY]").body
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="dry-bucket")


def test_default_preferences_are_loaded_at_deploy(responder):
    store = PreferenceStore(responder.stack.outputs["PreferencesTable"], responder.session.client("dynamodb"))
    ids = {r.id for r in store.all()}
    assert {"credential-exfiltration-contain-role", "low-severity-notify", "ec2-high-approve"} <= ids


def test_public_bucket_contained_and_restored_exactly_under_strict_s3_rules(responder):
    """A public Allow statement and an AllUsers ACL grant, Block Public Access off: S3 refuses a public
    policy under BlockPublicPolicy and BucketOwnerEnforced under a public ACL (the emulator enforces both),
    so only the right order contains it, and only the mirror order restores it."""
    s3 = responder.session.client("s3")
    s3.create_bucket(Bucket="public-assets", ACL="public-read")
    s3.put_bucket_ownership_controls(
        Bucket="public-assets", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    original = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                                                 "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-assets/*"}]}
    )  # fmt: skip
    s3.put_bucket_policy(Bucket="public-assets", Policy=original)
    off = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), False)
    s3.put_public_access_block(Bucket="public-assets", PublicAccessBlockConfiguration=off)
    acl_before = s3.get_bucket_acl(Bucket="public-assets")
    all_users = "http://acs.amazonaws.com/groups/global/AllUsers"
    assert all_users in [g["Grantee"].get("URI") for g in acl_before["Grants"]]
    _rule(responder, "buckets-auto", ["s3_bucket"])

    desc = responder.wait(responder.start(s3_finding("Exfiltration:S3/AnomalousBehavior", bucket="public-assets")))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert incident.pre_state.acl is not None and incident.pre_state.acl.foreign_grants()
    statements = json.loads(s3.get_bucket_policy(Bucket="public-assets")["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["PublicRead", "ResponderContainmentDenyAll"]
    assert all(s3.get_public_access_block(Bucket="public-assets")["PublicAccessBlockConfiguration"].values())
    assert [g["Grantee"].get("URI") for g in s3.get_bucket_acl(Bucket="public-assets")["Grants"]] == [None]
    rules = s3.get_bucket_ownership_controls(Bucket="public-assets")["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]

    assert responder.wait(responder.restore(incident.incident_id))["status"] == "SUCCEEDED"
    assert responder.store.get(incident.incident_id).status.value == "RESTORED"
    assert s3.get_bucket_policy(Bucket="public-assets")["Policy"] == original
    assert s3.get_public_access_block(Bucket="public-assets")["PublicAccessBlockConfiguration"] == off
    assert s3.get_bucket_acl(Bucket="public-assets")["Grants"] == acl_before["Grants"]
    rules = s3.get_bucket_ownership_controls(Bucket="public-assets")["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "ObjectWriter"}]
