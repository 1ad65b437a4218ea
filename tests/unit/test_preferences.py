"""Preferences: matching, precedence, validation, atomic import, and the CLI's offline commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from responder.adapters.aws import client
from responder.adapters.preferences import PreferenceStore
from responder.domain.preferences import InvalidPreferences, decide, rules_from_documents
from responder.models.common import ResourceType
from responder.models.preferences import MatchFacts, Mode, OnTimeout
from responder_cli.samples import ec2_finding

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = rules_from_documents(yaml.safe_load((ROOT / "preferences.default.yaml").read_text()))

RULES = rules_from_documents(
    [
        {"id": "prod-ec2-auto", "priority": 5, "mode": "auto",
         "match": {"resource_types": ["ec2_instance"], "tags": {"env": "prod"}, "finding_types": ["Backdoor:EC2/*"]}},
        {"id": "sandbox-account-ignore", "priority": 1, "mode": "ignore", "match": {"accounts": ["999999999999"]}},
        {"id": "crypto-notify", "priority": 20, "mode": "notify", "match": {"finding_types": ["CryptoCurrency:*"]}},
        {"id": "high-approve-contain-on-timeout", "priority": 30, "mode": "approve", "on_timeout": "contain",
         "match": {"min_severity": 7}},
        {"id": "tie-b", "priority": 40, "mode": "notify", "match": {"max_severity": 3.9}},
        {"id": "tie-a", "priority": 40, "mode": "ignore", "match": {"max_severity": 3.9}},
    ]
)  # fmt: skip


def facts(kind="ec2_instance", ftype="Backdoor:EC2/C&CActivity.B", severity=8.0, account="123456789012", tags=None):
    return MatchFacts(
        resource_type=ResourceType(kind), finding_type=ftype, severity=severity, account=account, tags=tags or {}
    )


@pytest.mark.parametrize(
    ("f", "rule", "mode"),
    [
        (facts(tags={"env": "prod"}), "prod-ec2-auto", Mode.AUTO),
        (facts(tags={"env": "dev"}), "high-approve-contain-on-timeout", Mode.APPROVE),
        (
            facts(tags={"env": "prod"}, account="999999999999"),
            "sandbox-account-ignore",
            Mode.IGNORE,
        ),  # lowest number wins
        (facts(ftype="CryptoCurrency:EC2/BitcoinTool.B!DNS", severity=8), "crypto-notify", Mode.NOTIFY),
        (
            facts(kind="s3_bucket", ftype="Exfiltration:S3/AnomalousBehavior", severity=7.0),
            "high-approve-contain-on-timeout",
            Mode.APPROVE,
        ),
        (facts(severity=2.0), "tie-a", Mode.IGNORE),  # equal priority: ties broken by id
        (facts(severity=5.0), "builtin-default", Mode.APPROVE),  # nothing matches
    ],
)
def test_matching_table_and_precedence(f, rule, mode):
    decision = decide(RULES, f)
    assert (decision.rule_id, decision.mode) == (rule, mode)
    assert decision.reason


def test_no_rules_means_approve_everything():
    decision = decide([], facts())
    assert (
        decision.mode is Mode.APPROVE
        and decision.on_timeout is OnTimeout.EXPIRE
        and decision.rule_id == "builtin-default"
    )


@pytest.mark.parametrize(
    ("f", "rule", "mode"),
    [
        (facts(kind="iam_role", ftype="UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", severity=8),
         "credential-exfiltration-contain-role", Mode.AUTO),
        (facts(ftype="UnauthorizedAccess:EC2/SSHBruteForce", severity=2.0), "low-severity-notify", Mode.NOTIFY),
        (facts(severity=8.0), "ec2-high-approve", Mode.APPROVE),
        (facts(kind="iam_user", ftype="CredentialAccess:IAMUser/AnomalousBehavior", severity=5), "credentials-approve", Mode.APPROVE),
        (facts(kind="s3_bucket", ftype="Exfiltration:S3/AnomalousBehavior", severity=8), "s3-approve", Mode.APPROVE),
    ],
)  # fmt: skip
def test_shipped_defaults_are_sensible(f, rule, mode):
    decision = decide(DEFAULTS, f)
    assert (decision.rule_id, decision.mode) == (rule, mode)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([{"id": "x", "priority": 1, "mode": "sometimes"}], "rule 1 (x): mode: Input should be 'auto', 'approve', 'notify' or 'ignore'"),
        ([{"id": "x", "priority": -1, "mode": "auto"}], "rule 1 (x): priority: Input should be greater than or equal to 0"),
        ([{"id": "x", "priority": 1, "mode": "auto", "match": {"min_severity": 11}}], "match.min_severity"),
        ([{"id": "x", "priority": 1, "mode": "auto", "match": {"min_severity": 8, "max_severity": 3}}], "above max_severity"),
        ([{"id": "x", "priority": 1, "mode": "auto", "match": {"accounts": ["12345"]}}], "12-digit"),
        ([{"id": "x", "priority": 1, "mode": "auto", "match": {"resource_types": ["lambda"]}}], "match.resource_types.0"),
        ([{"id": "x", "priority": 1, "mode": "auto", "colour": "red"}], "rule 1 (x): colour: Extra inputs are not permitted"),
        ([{"id": "x", "priority": 1, "mode": "auto", "actions": {"iam_user": {"deactivate_keys": "delete"}}}], "actions.iam_user.deactivate_keys"),
        ([{"id": "x", "priority": 1, "mode": "auto", "actions": {"waf_ip_set_arn": "arn:aws:s3:::nope"}}], "actions.waf_ip_set_arn"),
        ([{"id": "x", "priority": 1, "mode": "auto"}, {"id": "x", "priority": 2, "mode": "ignore"}], "'x' appears more than once"),
        ([{"priority": 1, "mode": "auto"}], "rule 1: id: Field required"),
        ({"id": "x"}, "must be a list of rules"),
    ],
)  # fmt: skip
def test_invalid_rules_are_rejected_with_the_field_and_reason(doc, message):
    with pytest.raises(InvalidPreferences) as info:
        rules_from_documents(doc)
    assert message in str(info.value)


def test_import_replaces_the_whole_set_atomically(aws):
    ddb = client("dynamodb")
    ddb.create_table(
        TableName="prefs", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    store = PreferenceStore("prefs", ddb)
    assert store.load_if_empty(DEFAULTS) == len(DEFAULTS)
    assert store.load_if_empty(RULES) == 0  # never overwrites a team's rules
    store.replace_all(RULES[:2])
    assert sorted(r.id for r in store.all()) == sorted(r.id for r in RULES[:2])
    too_many = rules_from_documents([{"id": f"r{i}", "priority": i, "mode": "notify"} for i in range(101)])
    with pytest.raises(ValueError, match="at most 100"):
        store.replace_all(too_many)
    assert sorted(r.id for r in store.all()) == sorted(r.id for r in RULES[:2])  # nothing changed


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "responder_cli.main", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_cli_validate_and_explain_work_offline(tmp_path):
    ok = _cli("prefs", "validate", str(ROOT / "preferences.default.yaml"))
    assert ok.returncode == 0 and "5 valid rule(s)" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: x\n  priority: 1\n  mode: whenever\n")
    out = _cli("prefs", "validate", str(bad))
    assert out.returncode == 1 and "rule 1 (x): mode" in out.stderr and "Traceback" not in out.stderr

    event = tmp_path / "finding.json"
    event.write_text(
        json.dumps(ec2_finding("UnauthorizedAccess:EC2/SSHBruteForce", instance_id="i-0abc12345678", severity=2.0))
    )
    explained = _cli("prefs", "explain", str(event), "--rules", str(ROOT / "preferences.default.yaml"), "--json")
    assert explained.returncode == 0, explained.stderr
    doc = json.loads(explained.stdout)
    assert doc["decision"]["rule_id"] == "low-severity-notify"
    assert [t["matched"] for t in doc["trace"]][:2] == [False, True]
    assert "resource type ec2_instance not in ['iam_role']" in doc["trace"][0]["why"]


# -- posture and vulnerability findings are not threats ----------------------------------------------
def _classed(finding_class: str, source: str = "securityhub", severity: float = 8.0) -> MatchFacts:
    return MatchFacts(
        resource_type=ResourceType.EC2_INSTANCE,
        finding_type="Securityhub:EC2/EC2.8",
        severity=severity,
        account="123456789012",
        source=source,
        finding_class=finding_class,
    )


@pytest.mark.parametrize("finding_class", ["posture", "vulnerability"])
def test_shipped_defaults_only_notify_on_high_control_and_vulnerability_findings(finding_class):
    decision = decide(DEFAULTS, _classed(finding_class))
    assert decision.mode is Mode.NOTIFY and finding_class in decision.reason


def test_a_threat_at_the_same_severity_still_asks_for_approval():
    assert decide(DEFAULTS, _classed("threat")).mode is Mode.APPROVE


def test_a_rule_contains_posture_findings_only_when_it_names_the_class():
    rules = rules_from_documents(
        [
            {"id": "any", "priority": 1, "mode": "auto"},
            {"id": "controls", "priority": 2, "mode": "approve", "match": {"finding_classes": ["posture"]}},
        ]
    )
    assert decide(rules, _classed("posture")).rule_id == "controls"
    assert decide(rules, _classed("threat")).rule_id == "any"
    assert decide(rules, _classed("vulnerability")).mode is Mode.NOTIFY


def test_a_custom_action_on_a_control_finding_is_a_person_asking():
    decision = decide(DEFAULTS, _classed("posture", source="custom_action"))
    assert decision.mode is Mode.APPROVE


@pytest.mark.parametrize(
    "rule",
    [
        {"mode": "ignore"},
        {"mode": "notify"},
        {"mode": "auto", "dry_run": True},
    ],
    ids=["ignore", "notify", "dry-run"],
)
def test_a_rule_matched_by_resource_tags_may_not_lower_the_response(rule):
    """Issue 13, item 4: whoever controls a resource writes its tags, so a tag must not buy it a weaker response."""
    doc = {"id": "dev-quiet", "priority": 1, "match": {"tags": {"env": "dev"}}, **rule}
    with pytest.raises(InvalidPreferences, match="tags"):
        rules_from_documents([doc])
    untagged = {**doc, "match": {"accounts": ["999999999999"]}}
    assert rules_from_documents([untagged])  # the same rule keyed on what the owner cannot write is fine
