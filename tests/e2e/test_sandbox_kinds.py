"""The sandbox and CLI for IAM users and S3 buckets, with approval, and preferences managed by the CLI."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request

import pytest

pytestmark = pytest.mark.e2e


def _approve(link: str, name: str) -> int:
    page = urllib.request.urlopen(link, timeout=30).read().decode()
    fields = dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)"', page))
    body = urllib.parse.urlencode({**fields, "name": name, "decision": "approve"}).encode()
    request = urllib.request.Request(
        link.split("?")[0], data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    return urllib.request.urlopen(request, timeout=60).status


def _send_sample(sandbox, tmp_path, finding_type: str, resource: str) -> None:
    path = tmp_path / f"{resource}.json"
    path.write_text(sandbox.cli("findings", "sample", finding_type, "--resource", resource).stdout)
    sandbox.cli("findings", "send", str(path))


def test_iam_user_finding_with_approval_then_restore(sandbox, tmp_path):
    iam = sandbox.client("iam")
    iam.create_user(UserName="mallory")
    key = iam.create_access_key(UserName="mallory")["AccessKey"]["AccessKeyId"]
    path = tmp_path / "user.json"
    event = json.loads(
        sandbox.cli("findings", "sample", "CredentialAccess:IAMUser/AnomalousBehavior", "--resource", "mallory").stdout
    )
    event["detail"]["resource"]["accessKeyDetails"]["accessKeyId"] = key
    path.write_text(json.dumps(event))
    sandbox.cli("findings", "send", str(path))

    email = sandbox.wait_email("[APPROVAL NEEDED] CredentialAccess:IAMUser/AnomalousBehavior on mallory")
    assert f"Deactivate access key {key}" in email["body"]
    assert _approve(email["links"]["approve"], "IAM Reviewer") == 200
    contained = sandbox.wait_incident(lambda i: i["resource"]["id"] == "mallory" and i["status"] == "CONTAINED")
    assert iam.list_access_keys(UserName="mallory")["AccessKeyMetadata"][0]["Status"] == "Inactive"

    restored = json.loads(
        sandbox.cli("restore", contained["incident_id"], "--wait", "--reactivate-keys", "--json").stdout
    )
    assert restored["status"] == "RESTORED"
    assert iam.list_access_keys(UserName="mallory")["AccessKeyMetadata"][0]["Status"] == "Active"
    assert iam.list_attached_user_policies(UserName="mallory")["AttachedPolicies"] == []
    assert any("session revocation kept" in n for n in restored["restore_report"])


def test_s3_finding_with_approval_then_restore(sandbox, tmp_path):
    """A public bucket (a public Allow statement and an AllUsers ACL grant) named by a bucket-level finding,
    under the sandbox's strict S3 rules: contained, and restored exactly."""
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="finance-reports", ACL="public-read")
    public = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                                                 "Action": "s3:GetObject", "Resource": "arn:aws:s3:::finance-reports/*"}]}
    )  # fmt: skip
    s3.put_bucket_policy(Bucket="finance-reports", Policy=public)
    grants = s3.get_bucket_acl(Bucket="finance-reports")["Grants"]
    # A bucket-level finding, as GuardDuty sends it from CloudTrail management events: the resource is the
    # actor's access key, the bucket is in s3BucketDetails.
    sample = json.loads(
        sandbox.cli("findings", "sample", "Policy:S3/BucketPublicAccessGranted", "--resource", "finance-reports").stdout
    )
    assert sample["detail"]["resource"]["resourceType"] == "AccessKey"
    _send_sample(sandbox, tmp_path, "Policy:S3/BucketPublicAccessGranted", "finance-reports")

    email = sandbox.wait_email("[APPROVAL NEEDED] Policy:S3/BucketPublicAccessGranted on finance-reports")
    assert _approve(email["links"]["approve"], "Data Owner") == 200
    contained = sandbox.wait_incident(lambda i: i["resource"]["id"] == "finance-reports" and i["status"] == "CONTAINED")
    assert "ResponderContainmentDenyAll" in s3.get_bucket_policy(Bucket="finance-reports")["Policy"]
    assert all(s3.get_public_access_block(Bucket="finance-reports")["PublicAccessBlockConfiguration"].values())
    assert [g["Grantee"].get("URI") for g in s3.get_bucket_acl(Bucket="finance-reports")["Grants"]] == [None]
    ownership = s3.get_bucket_ownership_controls(Bucket="finance-reports")["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]

    restored = json.loads(sandbox.cli("restore", contained["incident_id"], "--wait", "--json").stdout)
    assert restored["status"] == "RESTORED"
    assert s3.get_bucket_policy(Bucket="finance-reports")["Policy"] == public
    assert s3.get_bucket_acl(Bucket="finance-reports")["Grants"] == grants
    for read in (s3.get_public_access_block, s3.get_bucket_ownership_controls):
        with pytest.raises(s3.exceptions.ClientError):
            read(Bucket="finance-reports")


def test_prefs_cli_against_the_deployed_table(sandbox, tmp_path):
    listed = sandbox.cli_json("prefs", "list")
    assert {r["id"] for r in listed} >= {"ec2-high-approve", "low-severity-notify"}  # onboarding defaults

    exported = tmp_path / "prefs.yaml"
    exported.write_text(sandbox.cli("prefs", "export").stdout)
    rule = tmp_path / "rule.json"
    # A quiet rule keyed on a tag the resource's owner can write is refused; keyed on an account it is stored.
    rule.write_text(
        json.dumps({"id": "lab-ignore", "priority": 1, "mode": "ignore", "match": {"tags": {"env": "lab"}}})
    )
    refused = sandbox.cli("prefs", "put", str(rule), check=False)
    assert refused.returncode != 0 and "match.tags" in refused.stderr
    rule.write_text(
        json.dumps({"id": "lab-ignore", "priority": 1, "mode": "ignore", "match": {"accounts": ["999999999999"]}})
    )
    assert "stored rule lab-ignore" in sandbox.cli("prefs", "put", str(rule)).stdout
    assert sandbox.cli_json("prefs", "show", "lab-ignore")["mode"] == "ignore"

    event = tmp_path / "event.json"
    event.write_text(
        sandbox.cli("findings", "sample", "Backdoor:EC2/C&CActivity.B", "--resource", "i-0123456789abcdef0").stdout
    )
    explained = sandbox.cli_json("prefs", "explain", str(event))
    assert explained["decision"]["rule_id"] == "ec2-high-approve"

    imported = sandbox.cli("prefs", "import", str(exported)).stdout
    assert "imported" in imported
    assert "lab-ignore" not in {r["id"] for r in sandbox.cli_json("prefs", "list")}
    missing = sandbox.cli("prefs", "delete", "lab-ignore", check=False)
    assert missing.returncode == 1 and "unknown rule lab-ignore" in missing.stderr
