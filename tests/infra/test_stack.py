"""Infrastructure: resources, permissions and cdk-nag, asserted on the synthesized template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Match, Template

from infra import bundling
from infra.config import DEPLOY_REGIONS, ConfigError
from infra.synth import build_app


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    app, stack = build_app(
        {"notificationEmail": "soc@example.com", "protectedArns": "arn:aws:iam::*:role/breakglass-*"},
        str(tmp_path_factory.mktemp("cdk")),
    )
    assembly = app.synth()
    return Template.from_stack(stack), assembly


def _policies(template: Template) -> dict[str, list[dict]]:
    """Role logical id -> its inline policy statements."""
    out: dict[str, list[dict]] = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        for role in policy["Properties"]["Roles"]:
            out.setdefault(role["Ref"], []).extend(statements)
    return out


def _actions(statement: dict) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_cdk_nag_aws_solutions_has_no_unacknowledged_findings(synthesized):
    """Synth raises on any unacknowledged AwsSolutions finding (see the next test), so reaching here
    means none; the report must carry no violation either."""
    _, assembly = synthesized
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    violations = [v for p in report["pluginReports"] for v in p.get("violations", [])]
    assert violations == []


def test_every_acknowledgment_is_on_one_resource_with_a_reason(synthesized):
    _, assembly = synthesized
    metadata = json.loads((Path(assembly.directory) / "ContainmentResponder.metadata.json").read_text())
    acknowledged = [
        (path, rule, reason)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
    ]
    assert acknowledged
    for path, rule, reason in acknowledged:
        assert path != "/ContainmentResponder", f"stack-wide acknowledgment of {rule}"
        # cdk-nag's, and one of CDK's own schema check (a resource type newer than its bundled schema)
        assert rule.startswith("AwsSolutions::AwsSolutions-") or rule == "CloudFormation-Validate::F3006", rule
        assert len(reason) >= 40, (path, rule, reason)


def test_a_nag_violation_fails_the_synth(tmp_path):
    """The check above can fail: an unacknowledged finding makes synth raise."""
    from aws_cdk import Stack
    from aws_cdk import aws_sqs as sqs

    app, stack = build_app({}, str(tmp_path))
    sqs.Queue(Stack.of(stack), "UnencryptedNoSslQueue")
    with pytest.raises(Exception, match=r"(?s)ValidationFailed.*AwsSolutions-SQS4"):
        app.synth()


def test_tables_have_point_in_time_recovery_encryption_and_retention(synthesized):
    template, _ = synthesized
    tables = template.find_resources("AWS::DynamoDB::Table")
    assert len(tables) == 2
    for table in tables.values():
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "GlobalSecondaryIndexes": [Match.object_like({"IndexName": "by-status"})],
            "TimeToLiveSpecification": Match.any_value(),
        },
    )


def test_guardduty_rule_starts_the_containment_workflow_with_a_dead_letter_queue(synthesized):
    template, _ = synthesized
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]},
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": Match.string_like_regexp("WorkflowsContainment")},
                        "DeadLetterConfig": Match.any_value(),
                    }
                )
            ],
        },
    )


def test_state_machines_are_standard_logged_and_traced(synthesized):
    template, _ = synthesized
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == 2
    for machine in machines.values():
        props = machine["Properties"]
        assert props["StateMachineType"] == "STANDARD"
        assert props["TracingConfiguration"]["Enabled"] is True
        assert props["LoggingConfiguration"]["Level"] == "ALL"


def test_every_task_retries_lambda_errors_and_catches_into_a_failure_path(synthesized):
    template, _ = synthesized
    for machine in template.find_resources("AWS::StepFunctions::StateMachine").values():
        parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
        text = "".join(p if isinstance(p, str) else "TOKEN" for p in parts)
        definition = json.loads(text)
        tasks = {k: v for k, v in definition["States"].items() if v["Type"] == "Task"}
        assert tasks
        for name, state in tasks.items():
            retried = {e for r in state.get("Retry", []) for e in r["ErrorEquals"]}
            assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException"} <= retried, name
            if name not in ("MarkFailed", "MarkRestoreFailed"):
                assert any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", [])), name


def test_approval_task_waits_for_a_task_token_with_the_configured_timeout(synthesized):
    template, _ = synthesized
    machine = next(
        m for k, m in template.find_resources("AWS::StepFunctions::StateMachine").items() if "Containment" in k
    )
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    definition = json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))
    request = definition["States"]["RequestApproval"]
    assert request["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert request["TimeoutSeconds"] == 24 * 3600
    assert request["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    assert any(c["ErrorEquals"] == ["States.Timeout"] for c in request["Catch"])


def test_each_function_has_its_own_role(synthesized):
    template, _ = synthesized
    functions = template.find_resources("AWS::Lambda::Function")
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    # 12 in the workflows, the approval API, the preferences loader, the Security Hub intake and the
    # custom action's custom resource
    assert len(functions) == 17
    assert len(set(roles)) == len(roles)
    for fn in functions.values():
        assert fn["Properties"]["Runtime"] == "python3.14"
        assert fn["Properties"]["TracingConfig"]["Mode"] == "Active"


def _asset_dir(assembly, function: dict) -> Path:
    digest = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    return Path(assembly.directory) / f"asset.{digest}"


def test_each_function_asset_holds_only_the_modules_its_handler_imports(synthesized):
    template, assembly = synthesized
    functions = template.find_resources("AWS::Lambda::Function")
    seen = set()
    for fn in functions.values():
        handler_module = fn["Properties"]["Handler"].rpartition(".")[0]
        asset = _asset_dir(assembly, fn)
        files = {p.relative_to(asset).as_posix() for p in asset.rglob("*.py")}
        assert handler_module.replace(".", "/") + ".py" in files
        other_handlers = {
            f for f in files if f.startswith("responder/handlers/") and not f.split("/")[-1].startswith("_")
        }
        assert other_handlers == {handler_module.replace(".", "/") + ".py"}, handler_module
        assert not (asset / "requirements.txt").exists()
        seen.add(handler_module)
    approval = next(f for f in functions.values() if "approval_api" in f["Properties"]["Handler"])
    approval_files = {p.name for p in _asset_dir(assembly, approval).rglob("*.py")}
    assert "guardduty.py" not in approval_files and "cfn.py" not in approval_files
    # The functions that never touch a resource do not carry (or import) the resource kinds.
    notify = next(f for f in functions.values() if f["Properties"]["Handler"].endswith(".notify.handler"))
    assert "kinds.py" not in {p.name for p in _asset_dir(assembly, notify).rglob("*.py")}
    assert len(seen) == 15  # 17 functions; the three restore steps share one module


def test_assets_carry_bytecode_for_the_runtime_python_only(synthesized):
    """Lambda's file system is read-only: bytecode not shipped is compiled on every cold start, and
    bytecode of another Python is dead weight. With a runtime interpreter at hand, every module has it."""
    template, assembly = synthesized
    tag = "cpython-" + bundling.RUNTIME_PYTHON.replace(".", "")
    layer = next(iter(template.find_resources("AWS::Lambda::LayerVersion").values()))
    layer_dir = Path(assembly.directory) / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}"
    assets = [_asset_dir(assembly, f) for f in template.find_resources("AWS::Lambda::Function").values()]
    for asset in [*assets, layer_dir]:
        compiled = list(asset.rglob("*.pyc"))
        assert all(f".{tag}." in p.name for p in compiled), asset
        if bundling.runtime_interpreter() is not None:
            modules = {p.with_suffix("").relative_to(asset) for p in asset.rglob("*.py")}
            cached = {(p.parent.parent / p.name.split(".")[0]).relative_to(asset) for p in compiled}
            assert modules <= cached, sorted(modules - cached)[:5]


SFN_LOGGING = {
    "logs:CreateLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:PutResourcePolicy",
}


def test_mutating_permissions_are_scoped(synthesized):
    template, _ = synthesized
    mutating = (
        "Modify",
        "Create",
        "Authorize",
        "Revoke",
        "EnterStandby",
        "ExitStandby",
        "Put",
        "Update",
        "Delete",
        "Publish",
        "SendTask",
    )
    for role, statements in _policies(template).items():
        for st in statements:
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for action in _actions(st):
                verb = action.split(":", 1)[1]
                # X-Ray's Put* calls and the CloudWatch Logs calls a state machine's logging needs (as AWS
                # documents them for Step Functions) support no resource-level permissions.
                exempt = action.startswith("xray:") or action in SFN_LOGGING
                assert exempt or not (verb.startswith(mutating) and "*" in resources), (role, action)


def test_security_group_rule_changes_require_the_managed_tag(synthesized):
    template, _ = synthesized
    found = False
    for statements in _policies(template).values():
        for st in statements:
            if "ec2:RevokeSecurityGroupIngress" in _actions(st):
                found = True
                assert st["Condition"] == {"StringEquals": {"aws:ResourceTag/responder:managed": "true"}}
    assert found


def test_only_contain_and_reverify_can_isolate_and_only_restore_can_exit_standby(synthesized):
    """Reverify applies containment again where a rule says on_drift: recontain."""
    template, _ = synthesized
    holders: dict[str, set[str]] = {}
    for role, statements in _policies(template).items():
        for st in statements:
            for action in _actions(st):
                holders.setdefault(action, set()).add(role)
    isolating = sorted(holders["ec2:CreateSecurityGroup"])
    assert len(isolating) == 2 and "Contain" in isolating[0] and "Reverify" in isolating[1], isolating
    assert len(holders["autoscaling:ExitStandby"]) == 1 and "RestoreApply" in next(
        iter(holders["autoscaling:ExitStandby"])
    )
    assert "ec2:TerminateInstances" not in holders and "ec2:DeleteSecurityGroup" not in holders


def test_approval_api_has_get_and_post_throttled_and_logged(synthesized):
    template, _ = synthesized
    methods = {m["Properties"]["HttpMethod"] for m in template.find_resources("AWS::ApiGateway::Method").values()}
    assert methods == {"GET", "POST"}
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "AccessLogSetting": Match.any_value(),
            "TracingEnabled": True,
            "MethodSettings": [Match.object_like({"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20})],
        },
    )


def test_only_the_approval_function_reads_the_signing_secret_and_resumes_the_workflow(synthesized):
    template, _ = synthesized
    readers, resumers = set(), set()
    for role, statements in _policies(template).items():
        for st in statements:
            if "secretsmanager:GetSecretValue" in _actions(st):
                readers.add(role)
            if "states:SendTaskSuccess" in _actions(st):
                resumers.add(role)
    assert len(resumers) == 1 and "Approval" in next(iter(resumers))
    assert len(readers) == 2  # the approval page and the function that signs the emailed links


def test_email_subscription_and_encrypted_topic(synthesized):
    template, _ = synthesized
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "soc@example.com"})
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_context_settings_reach_the_functions(synthesized):
    template, _ = synthesized
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"PROTECTED_ARNS": '["arn:aws:iam::*:role/breakglass-*"]'})}},
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"ISOLATION_MODE": "two_step"})}},
    )


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"notificationEmail": "not-an-email"}, "notificationEmail"),
        ({"approvalTimeoutHours": "0"}, "approvalTimeoutHours"),
        ({"isolationMode": "sideways"}, "isolationMode"),
        ({"protectedArns": "i-0abc"}, "protectedArns"),
        # The functions' environment admits only ASCII role names; the synth refuses the rest first.
        ({"memberRoleName": "Responder\u00e9Member"}, "memberRoleName"),
        ({"memberExternalId": "ext-\u0663\u0664"}, "memberExternalId"),
    ],
)
def test_invalid_context_is_rejected_naming_the_key(tmp_path, context, message):
    with pytest.raises(ConfigError, match=message):
        build_app(context, str(tmp_path))


def test_app_synthesizes_offline_without_aws_credentials(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["CDK_OUTDIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "app.py"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "ContainmentResponder.template.json").exists()


def test_cfn_lint_finds_nothing_but_cdks_redundant_depends_on_in_every_region(synthesized):
    """W3005 (a DependsOn already implied by a GetAtt) is how CDK orders a function after its role's
    policy; everything else cfn-lint checks must be clean, against the CloudFormation registry of every
    region the stack is meant to run in (a resource type missing from one region is E3006)."""
    import shutil
    import subprocess
    import sys

    _, assembly = synthesized
    template = Path(assembly.directory) / "ContainmentResponder.template.json"
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    proc = subprocess.run(
        [cfn_lint, "--ignore-checks", "W3005", "--regions", *DEPLOY_REGIONS, "--", str(template)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
