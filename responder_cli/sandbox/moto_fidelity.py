"""Fidelity fixes for the AWS emulator, applied by the sandbox and the test harness.

Each one makes moto behave as AWS documents, where the responder depends on it. None changes the
responder's code or the template.
"""

from __future__ import annotations

from typing import Any

_applied = False
# moto discovers CloudFormation resource types through CloudFormationModel.__subclasses__(), which holds
# only weak references: the gap-filler classes are kept alive here.
_REGISTERED: list[type] = []


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    _primary_eni_groups_are_the_instance_groups()
    _new_security_groups_allow_only_ipv4_egress()
    _security_group_authorizations_are_all_or_nothing()
    _update_ip_set_replaces_the_description()
    _iam_inline_policy_sizes()
    _cloudformation_gap_fillers()
    _cloudformation_state_machines_are_executable()
    _iam_managed_policy_quota()
    _custom_resource_responses_come_to_this_host()
    _dynamodb_requests_are_atomic()
    _securityhub_batch_update_findings()
    _securityhub_batch_update_findings_v2()
    _securityhub_action_targets()
    _s3_block_public_access_and_object_ownership()
    _sns_subjects_are_ascii()


def _primary_eni_groups_are_the_instance_groups() -> None:
    """In EC2, an instance's security groups are its primary ENI's groups. moto keeps a separate list for
    instances launched with top-level SecurityGroups (e.g. by Auto Scaling) and unions it into the groups of
    every attached ENI, so ModifyNetworkInterfaceAttribute could never remove them, and secondary ENIs showed
    the primary's groups. Each ENI has its own groups; the instance's are the primary ENI's."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface, NetworkInterfaceBackend

    def group_set(self: Any) -> Any:
        if self._group_set or self.instance is None or self.device_index != 0:
            return self._group_set
        return self.instance.security_groups

    NetworkInterface.group_set = property(group_set)  # type: ignore[method-assign,assignment]
    original = NetworkInterfaceBackend.modify_network_interface_attribute

    def modify(self: Any, eni_id: str, group_ids: list[str], *args: Any, **kwargs: Any) -> None:
        original(self, eni_id, group_ids, *args, **kwargs)
        eni = self.get_network_interface(eni_id)
        if group_ids and eni.instance is not None and eni.device_index == 0:
            eni.instance.security_groups = list(eni._group_set)

    NetworkInterfaceBackend.modify_network_interface_attribute = modify  # type: ignore[method-assign]


def _new_security_groups_allow_only_ipv4_egress() -> None:
    """A new VPC security group holds one outbound rule, all traffic to 0.0.0.0/0; IPv6 egress is added
    only when authorized (CDK's `allowAllIpv6Outbound` defaults to false for this reason). moto also gives
    every new group in a VPC with an IPv6 block a ::/0 egress rule, which hid a missing authorization.
    The VPC's default group keeps both (AWS adds ::/0 to it when the VPC has an IPv6 block)."""
    from moto.ec2.models.security_groups import SecurityGroupBackend

    original = SecurityGroupBackend.create_security_group

    def create_security_group(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        group = original(self, name, *args, **kwargs)
        if not group.is_default and name != "default":
            group.egress_rules = [r for r in group.egress_rules if r.ip_range.get("CidrIpv6") != "::/0"]
        return group

    SecurityGroupBackend.create_security_group = create_security_group  # type: ignore[method-assign]


def _security_group_authorizations_are_all_or_nothing() -> None:
    """AuthorizeSecurityGroupIngress/Egress with any rule that already exists fails the whole call with
    InvalidPermission.Duplicate and adds nothing. moto adds rule by rule and raises at the first
    duplicate, keeping the rules before it: the call is rolled back to the group's rules before it."""
    from moto.ec2.responses.security_groups import SecurityGroups

    def all_or_nothing(name: str, attribute: str) -> None:
        original = getattr(SecurityGroups, name)

        def authorize(self: Any) -> Any:
            group_ref = self._get_param("GroupName") or self._get_param("GroupId")
            group = self.ec2_backend.get_security_group_by_name_or_id(group_ref, None) if group_ref else None
            before = list(getattr(group, attribute)) if group is not None else None
            try:
                return original(self)
            except Exception:
                if group is not None and before is not None:
                    setattr(group, attribute, before)
                raise

        setattr(SecurityGroups, name, authorize)

    all_or_nothing("authorize_security_group_egress", "egress_rules")
    all_or_nothing("authorize_security_group_ingress", "ingress_rules")


def _sns_subjects_are_ascii() -> None:
    """Publish refuses a subject that is not ASCII text beginning with a letter, number or punctuation mark,
    or that holds a line break or a control character. moto checks only the length.
    https://docs.aws.amazon.com/sns/latest/api/API_Publish.html"""
    import string

    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import SNSBackend

    original = SNSBackend.publish
    first = set(string.ascii_letters + string.digits + string.punctuation)

    def publish(self: Any, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
        subject = kwargs.get("subject", args[1] if len(args) > 1 else None)
        if subject is not None and (
            not subject or subject[0] not in first or any(not (" " <= ch <= "~") for ch in subject)
        ):
            raise SNSInvalidParameter(
                "Invalid parameter: Subject must be ASCII text that begins with a letter, number or punctuation "
                "mark, without line breaks or control characters"
            )
        return original(self, message, arn, *args, **kwargs)

    SNSBackend.publish = publish  # type: ignore[method-assign]


def _update_ip_set_replaces_the_description() -> None:
    """UpdateIPSet replaces every mutable field: a call without Description clears it. moto keeps it.
    https://docs.aws.amazon.com/waf/latest/APIReference/API_UpdateIPSet.html"""
    from moto.wafv2.models import FakeIPSet

    original = FakeIPSet.update

    def update(self: Any, description: str | None, addresses: list[str]) -> None:
        original(self, description, addresses)
        self.description = description

    FakeIPSet.update = update  # type: ignore[method-assign]


# The total size of a principal's inline policies, in characters not counting whitespace.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
INLINE_POLICY_CHARACTERS = {"User": 2048, "Role": 10240}


def _iam_inline_policy_sizes() -> None:
    """IAM refuses PutUserPolicy/PutRolePolicy with LimitExceeded when the principal's inline policies
    would total more than 2,048 (user) or 10,240 (role) characters, whitespace not counted. moto has
    no limit."""
    from moto.iam.exceptions import LimitExceededException
    from moto.iam.models import IAMBackend

    def size(document: str) -> int:
        return sum(1 for ch in document if not ch.isspace())

    def limited(method: str, kind: str, finder: str) -> None:
        original = getattr(IAMBackend, method)

        def put(self: Any, name: str, policy_name: str, policy_json: str) -> None:
            principal = getattr(self, finder)(name)
            others = sum(size(doc) for pname, doc in principal.policies.items() if pname != policy_name)
            limit = INLINE_POLICY_CHARACTERS[kind]
            if others + size(policy_json) > limit:
                raise LimitExceededException(f"Maximum policy size of {limit} bytes exceeded for {kind.lower()} {name}")
            original(self, name, policy_name, policy_json)

        setattr(IAMBackend, method, put)

    limited("put_user_policy", "User", "get_user")
    limited("put_role_policy", "Role", "get_role")


def _cloudformation_gap_fillers() -> None:
    """CloudFormation resource types the stack uses that moto's CloudFormation does not create.

    Each creates the real resource through moto's own backend, so references resolve as on AWS.
    Policy-only types (topic and queue policies, request validators) are accepted and recorded: moto
    does not enforce resource policies, so there is nothing to create.
    """
    import json as _json
    import secrets as _secrets
    import string

    from moto.apigateway.models import apigateway_backends
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.sns.models import sns_backends

    class _Filler:
        """Shared behaviour; each resource class lists CloudFormationModel as a direct base, which is how
        moto discovers resource types (CloudFormationModel.__subclasses__())."""

        TYPE = ""
        NAME_PROPERTY = ""

        @classmethod
        def cloudformation_type(cls) -> str:
            return cls.TYPE

        @classmethod
        def cloudformation_name_type(cls) -> str:
            return cls.NAME_PROPERTY

        def __init__(self, physical_id: str, attributes: dict[str, str] | None = None) -> None:
            self._physical_id = physical_id
            self._attributes = attributes or {}

        @property
        def physical_resource_id(self) -> str:
            return self._physical_id

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return True

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self._attributes.get(attribute_name, self._physical_id)

        @classmethod
        def update_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> Any:
            return cls.create_from_cloudformation_json(*args, **kwargs)  # type: ignore[attr-defined]

        @classmethod
        def delete_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> None:
            return None

    class Secret(_Filler, CloudFormationModel):
        TYPE = "AWS::SecretsManager::Secret"
        NAME_PROPERTY = "Name"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Secret:
            props = cloudformation_json.get("Properties", {})
            value = props.get("SecretString")
            if value is None:
                gen = props.get("GenerateSecretString", {})
                alphabet = string.ascii_letters + string.digits
                value = "".join(_secrets.choice(alphabet) for _ in range(int(gen.get("PasswordLength", 32))))
            backend = secretsmanager_backends[account_id][region_name]
            created = _json.loads(
                backend.create_secret(
                    name=props.get("Name") or resource_name,
                    secret_string=value,
                    secret_binary=None,
                    description=props.get("Description"),
                    tags=props.get("Tags"),
                    kms_key_id=props.get("KmsKeyId"),
                    client_request_token=None,
                    replica_regions=[],
                    force_overwrite=False,
                )
            )
            return cls(created["ARN"], {"Id": created["ARN"]})

    class Subscription(_Filler, CloudFormationModel):
        TYPE = "AWS::SNS::Subscription"
        NAME_PROPERTY = ""

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Subscription:
            props = cloudformation_json["Properties"]
            sub = sns_backends[account_id][region_name].subscribe(
                props["TopicArn"], props["Endpoint"], props["Protocol"]
            )
            return cls(sub.arn)

    class Stage(_Filler, CloudFormationModel):
        TYPE = "AWS::ApiGateway::Stage"
        NAME_PROPERTY = "StageName"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Stage:
            props = cloudformation_json["Properties"]
            backend = apigateway_backends[account_id][region_name]
            name = props["StageName"]
            if props.get("AccessLogSetting") and not backend.get_account().cloudwatch_role_arn:
                # API Gateway refuses stage logging until the account's CloudWatch role is set.
                raise ValueError("CloudWatch Logs role ARN must be set in account settings to enable logging")
            api = backend.get_rest_api(props["RestApiId"])
            if name not in api.stages:
                backend.create_stage(
                    props["RestApiId"],
                    name,
                    props["DeploymentId"],
                    tracing_enabled=props.get("TracingEnabled"),
                )
            return cls(name)

    class ApiGatewayAccount(_Filler, CloudFormationModel):
        """The account-wide API Gateway settings: the CloudWatch role that stage logging needs."""

        TYPE = "AWS::ApiGateway::Account"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> ApiGatewayAccount:
            role = cloudformation_json.get("Properties", {}).get("CloudWatchRoleArn")
            if role:
                apigateway_backends[account_id][region_name].update_account(
                    [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
                )
            return cls(f"{account_id}-{region_name}-apigateway-account")

    class EventInvokeConfig(_Filler, CloudFormationModel):
        """A function's asynchronous invocation settings (retries, event age, on-failure destination)."""

        TYPE = "AWS::Lambda::EventInvokeConfig"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> EventInvokeConfig:
            from moto.awslambda.models import lambda_backends

            props = cloudformation_json["Properties"]
            config = {k: props[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
                      if k in props}  # fmt: skip
            lambda_backends[account_id][region_name].put_function_event_invoke_config(props["FunctionName"], config)
            return cls(f"{props['FunctionName']}:{props.get('Qualifier', '$LATEST')}")

    class MetricAlarm(_Filler, CloudFormationModel):
        """A CloudWatch alarm on one metric, created in moto's CloudWatch (its Ref is the name)."""

        TYPE = "AWS::CloudWatch::Alarm"
        NAME_PROPERTY = "AlarmName"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> MetricAlarm:
            from moto.cloudwatch.models import cloudwatch_backends

            props = cloudformation_json["Properties"]
            name = props.get("AlarmName") or resource_name
            alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=name,
                namespace=props.get("Namespace"),
                metric_name=props.get("MetricName"),
                comparison_operator=props["ComparisonOperator"],
                evaluation_periods=int(props["EvaluationPeriods"]),
                period=int(props.get("Period", 60)),
                threshold=float(props["Threshold"]),
                statistic=props.get("Statistic"),
                description=props.get("AlarmDescription", ""),
                dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])],
                alarm_actions=props.get("AlarmActions", []),
                ok_actions=props.get("OKActions", []),
                actions_enabled=props.get("ActionsEnabled", True),
                treat_missing_data=props.get("TreatMissingData"),
            )
            return cls(name, {"Arn": alarm.alarm_arn})

    class ActionTarget(_Filler, CloudFormationModel):
        """A Security Hub custom action: its Ref and ActionTargetArn are the action's ARN."""

        TYPE = "AWS::SecurityHub::ActionTarget"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> ActionTarget:
            action_id = cloudformation_json["Properties"]["Id"]
            arn = f"arn:aws:securityhub:{region_name}:{account_id}:action/custom/{action_id}"
            return cls(arn, {"ActionTargetArn": arn})

    def _accepted(type_name: str) -> type:
        class Accepted(_Filler, CloudFormationModel):
            TYPE = type_name

            @classmethod
            def create_from_cloudformation_json(
                cls,
                resource_name: str,
                cloudformation_json: Any,
                account_id: str,
                region_name: str,
                **kwargs: Any,
            ) -> Any:
                return cls(resource_name)

        return Accepted

    _REGISTERED.extend([Secret, Subscription, Stage, ApiGatewayAccount, EventInvokeConfig, MetricAlarm, ActionTarget])
    for type_name in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::ApiGateway::RequestValidator"):
        _REGISTERED.append(_accepted(type_name))
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


def _cloudformation_state_machines_are_executable() -> None:
    """With `execute_state_machine` on, moto serves Step Functions from its executing backend, but its
    CloudFormation still creates state machines in the plain one, where StartExecution cannot see them.
    Create them where the API will look."""
    from moto.stepfunctions import models
    from moto.stepfunctions.responses import get_backend

    class _Accounts:
        def __getitem__(self, account: str) -> Any:
            class _Regions:
                def __getitem__(self, region: str) -> Any:
                    return get_backend(account, region)

            return _Regions()

    models.stepfunctions_backends = _Accounts()  # type: ignore[assignment]


def deliver_events_to_state_machines() -> None:
    """EventBridge starts a Step Functions execution for each matching rule with a state machine target,
    with the event as its input, and invokes Lambda targets asynchronously with the event. moto delivers
    only to logs, archives, SQS and event buses."""
    import threading
    import uuid

    from moto.awslambda.models import lambda_backends
    from moto.events.models import Rule
    from moto.stepfunctions.responses import get_backend
    from moto.utilities.arns import parse_arn

    original = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        machines = [t for t in self.targets if parse_arn(t["Arn"]).service == "states"]
        functions = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
        others = [t for t in self.targets if t not in machines and t not in functions]
        if others:  # moto raises on target kinds it does not know, so it sees only the ones it does
            saved, self.targets = self.targets, others
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = saved
        if not (machines or functions) or not self.event_pattern.matches_event(original_event):
            return
        for target in functions:
            arn = parse_arn(target["Arn"])
            functions_backend = lambda_backends[arn.account][arn.region]
            body = _json_dumps(original_event)
            threading.Thread(  # an asynchronous ("Event") invocation, as EventBridge makes
                target=functions_backend.invoke, args=(target["Arn"], None, body, {}, {}), daemon=True
            ).start()
        for target in machines:
            arn = parse_arn(target["Arn"])
            backend = get_backend(arn.account, arn.region)
            backend.start_execution(target["Arn"], name=uuid.uuid4().hex, execution_input=_json_dumps(original_event))

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


# Every BatchUpdateFindings request the emulator answered: (account, region, request), for tests and the demo.
SECURITYHUB_UPDATES: list[tuple[str, str, dict[str, Any]]] = []
SECURITYHUB_UPDATES_V2: list[tuple[str, str, dict[str, Any]]] = []


def _securityhub_batch_update_findings() -> None:
    """BatchUpdateFindings, which moto does not implement: records each request, applies Workflow and
    Note to findings moto holds, and answers as Security Hub does (every finding processed)."""
    import json as _json

    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    urls.url_paths["{0}/findings/batchupdate$"] = SecurityHubResponse.dispatch

    def batch_update_findings(self: Any) -> str:
        request = _json.loads(self.body or "{}")
        backend = self.securityhub_backend
        SECURITYHUB_UPDATES.append((self.current_account, self.region, request))
        ids = {(f["Id"], f["ProductArn"]) for f in request.get("FindingIdentifiers", [])}
        for finding in backend.findings:
            if (finding.id, finding.data.get("ProductArn")) in ids:
                if "Workflow" in request:
                    finding.data["Workflow"] = request["Workflow"]
                if "Note" in request:
                    finding.data["Note"] = {**request["Note"], "UpdatedAt": "now"}
        processed = [{"Id": i, "ProductArn": p} for i, p in sorted(ids)]
        return _json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": []})

    SecurityHubResponse.batch_update_findings = batch_update_findings  # type: ignore[attr-defined]


def _securityhub_batch_update_findings_v2() -> None:
    """BatchUpdateFindingsV2 (`PATCH /findingsv2/batchupdatev2`), which moto does not implement: checks the
    request as the API reference states it (FindingIdentifiers or MetadataUids, not both; each identifier
    with its three uids; Comment 1-512 characters; StatusId one of 0-6 or 99), records it, and answers with
    every finding processed."""
    import json as _json

    from moto.core.exceptions import JsonRESTError
    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    urls.url_paths["{0}/findingsv2/batchupdatev2$"] = SecurityHubResponse.dispatch

    def invalid(message: str) -> JsonRESTError:
        return JsonRESTError("InvalidInputException", message)

    def batch_update_findings_v2(self: Any) -> str:
        request = _json.loads(self.body or "{}")
        identifiers = request.get("FindingIdentifiers") or []
        if bool(identifiers) == bool(request.get("MetadataUids")):
            raise invalid("Provide either FindingIdentifiers or MetadataUids")
        keys = ("CloudAccountUid", "FindingInfoUid", "MetadataProductUid")
        if any(not all(ident.get(k) for k in keys) for ident in identifiers):
            raise invalid("Each finding identifier needs CloudAccountUid, FindingInfoUid and MetadataProductUid")
        comment = request.get("Comment")
        if comment is not None and not 1 <= len(comment) <= 512:
            raise invalid("Comment must be 1-512 characters")
        if "StatusId" in request and request["StatusId"] not in (0, 1, 2, 3, 4, 5, 6, 99):
            raise invalid(f"StatusId {request['StatusId']} is not a valid status id")
        SECURITYHUB_UPDATES_V2.append((self.current_account, self.region, request))
        processed = [{"FindingIdentifier": ident} for ident in identifiers]
        return _json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": []})

    SecurityHubResponse.batch_update_findings_v2 = batch_update_findings_v2  # type: ignore[attr-defined]


def _securityhub_action_targets() -> None:
    """CreateActionTarget, DescribeActionTargets, UpdateActionTarget and DeleteActionTarget, which moto
    does not implement, as Security Hub answers them: the ARN is `action/custom/<Id>`, a second action with
    the same Id is a ResourceConflictException, an unknown ARN a ResourceNotFoundException."""
    import json as _json
    from urllib.parse import unquote

    from moto.core.exceptions import JsonRESTError
    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    for path in ("{0}/actionTargets$", "{0}/actionTargets/get$", "{0}/actionTargets/(?P<arn>.+)$"):
        urls.url_paths[path] = SecurityHubResponse.dispatch

    def held(self: Any) -> dict[str, dict[str, str]]:
        """The custom actions of this account and region (ARN -> Name, Description), kept on moto's
        backend so that a fresh emulator starts with none."""
        backend = self.securityhub_backend
        if not hasattr(backend, "responder_action_targets"):
            backend.responder_action_targets = {}
        return backend.responder_action_targets

    def arn_in_path(self: Any) -> str:
        arn = unquote(self.path.split("/actionTargets/", 1)[1])
        if arn not in held(self):
            raise JsonRESTError("ResourceNotFoundException", f"ActionTarget {arn} not found")
        return arn

    def create_action_target(self: Any) -> str:
        request = _json.loads(self.body or "{}")
        arn = f"arn:aws:securityhub:{self.region}:{self.current_account}:action/custom/{request['Id']}"
        if arn in held(self):
            raise JsonRESTError("ResourceConflictException", f"ActionTarget {arn} already exists")
        held(self)[arn] = {"Name": request["Name"], "Description": request["Description"]}
        return _json.dumps({"ActionTargetArn": arn})

    def describe_action_targets(self: Any) -> str:
        request = _json.loads(self.body or "{}")
        wanted = request.get("ActionTargetArns") or list(held(self))
        targets = [{"ActionTargetArn": a, **held(self)[a]} for a in wanted if a in held(self)]
        return _json.dumps({"ActionTargets": targets})

    def update_action_target(self: Any) -> str:
        arn = arn_in_path(self)
        request = _json.loads(self.body or "{}")
        held(self)[arn].update({k: request[k] for k in ("Name", "Description") if k in request})
        return "{}"

    def delete_action_target(self: Any) -> str:
        arn = arn_in_path(self)
        del held(self)[arn]
        return _json.dumps({"ActionTargetArn": arn})

    for method in (create_action_target, describe_action_targets, update_action_target, delete_action_target):
        setattr(SecurityHubResponse, method.__name__, method)


def _json_dumps(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


MANAGED_POLICIES_PER_PRINCIPAL = 10


def _iam_managed_policy_quota() -> None:
    """IAM allows 10 managed policies per user or role by default and answers LimitExceeded past that;
    moto attaches without limit."""
    from moto.iam.exceptions import LimitExceededException
    from moto.iam.models import ManagedPolicy

    original = ManagedPolicy.attach_to

    def attach_to(self: Any, obj: Any) -> None:
        kind = type(obj).__name__
        if (
            kind in ("User", "Role")
            and self.arn not in obj.managed_policies
            and len(obj.managed_policies) >= MANAGED_POLICIES_PER_PRINCIPAL
        ):
            raise LimitExceededException(f"Cannot exceed quota for PoliciesPer{kind}: {MANAGED_POLICIES_PER_PRINCIPAL}")
        original(self, obj)

    ManagedPolicy.attach_to = attach_to  # type: ignore[method-assign]


def deliver_custom_resource_response(url: str, body: dict[str, Any]) -> None:
    """In-process emulation has no HTTP server for a custom resource's response URL: hand the response
    to moto's CloudFormation directly, as its `cfnresponse` endpoint would."""
    import re

    from moto.cloudformation import cloudformation_backends

    match = re.search(r"cloudformation_([a-z0-9-]+)/cfnresponse", url)
    if match is None:
        raise ValueError(f"not an emulator custom-resource response URL: {url}")
    if body.get("Status") != "SUCCESS":
        raise RuntimeError(f"custom resource {body.get('LogicalResourceId')} failed: {body.get('Reason')}")
    account = str(body["StackId"]).split(":")[4]
    stack = cloudformation_backends[account][match.group(1)].get_stack(body["StackId"])
    stack.get_custom_resource(body["LogicalResourceId"]).set_data(body.get("Data", {}))
    stack.verify_readiness()


def _custom_resource_responses_come_to_this_host() -> None:
    """moto assumes Lambda runs in Docker and gives custom resources a response URL on
    host.docker.internal; here functions run on this host, so the emulator is on 127.0.0.1."""
    from moto import settings

    settings.moto_server_host = lambda: "http://127.0.0.1"  # type: ignore[assignment]


def _dynamodb_requests_are_atomic() -> None:
    """DynamoDB applies each request atomically (a transaction all or nothing, a conditional write
    against the current item). moto's backend is not thread-safe: concurrent transactions can fail with
    a 500 or interleave. Serialize DynamoDB requests so concurrency tests test the responder, not moto."""
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


# -- S3: Block Public Access and Object Ownership ---------------------------------------------------
# AWS documentation the rules below follow:
# [BPA]  Blocking public access to your Amazon S3 storage, "The meaning of public":
#        https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
# [PABC] PublicAccessBlockConfiguration:
#        https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html
# [OWN]  Object Ownership troubleshooting:
#        https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
# Not emulated: the defaults of buckets created since April 2023 (BPA on, BucketOwnerEnforced), object
# ACLs (PutObject/PutObjectAcl), access points, and IgnorePublicAcls/RestrictPublicBuckets, which govern
# access (moto evaluates no access), not puts.

# [BPA]: a policy that pins one of these keys to fixed values (no wildcard, no policy variable) is not
# public. Keys are case-insensitive in IAM. aws:PrincipalOrgID and aws:PrincipalAccount pin the caller
# to an organization or account as a fixed principal does.
S3_NON_PUBLIC_CONDITION_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceIp",
        "aws:SourceArn",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceOwner",
        "aws:SourceAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalAccount",
        "aws:userid",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    )
)
# Operators that admit a request only when the key equals one of the listed values (Like operators: only
# when the value has no wildcard, checked with the value). Negated, IfExists and ForAllValues operators
# also admit requests that lack the key or hold any other value: they do not pin anything.
_PINNING_OPERATORS = frozenset(
    ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress")
)
S3_PUBLIC_GROUPS = frozenset(
    ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
)


def _fixed(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not value or "*" in value or "?" in value or "${" in value:
        return False
    if key == "aws:sourceip":
        import ipaddress

        try:
            return ipaddress.ip_network(value, strict=False).prefixlen > 0  # 0.0.0.0/0 and ::/0 admit everyone
        except ValueError:
            return False
    return True


def _pinned_by_condition(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    for operator, clauses in condition.items():
        base = operator.removeprefix("ForAnyValue:")
        if base not in _PINNING_OPERATORS or not isinstance(clauses, dict):
            continue
        for key, values in clauses.items():
            key = key.lower()
            if key not in S3_NON_PUBLIC_CONDITION_KEYS or (base == "IpAddress") != (key == "aws:sourceip"):
                continue
            values = values if isinstance(values, list) else [values]
            if values and all(_fixed(key, v) for v in values):
                return True
    return False


def _principal_is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        for value in principal.values():
            values = value if isinstance(value, list) else [value]
            if "*" in values:
                return True
    return False


def s3_policy_is_public(document: dict[str, Any]) -> bool:
    """Whether S3 considers a bucket policy public [BPA]: it starts from public and looks for a reason it
    is not. An Allow statement for everyone (Principal "*" or {"AWS": "*"}, or NotPrincipal) is public
    unless its condition pins one of the documented keys to fixed values (a fixed aws:SourceVpc makes the
    user guide's own example non-public; "vpc-*" leaves it public). A Deny never makes a policy
    non-public: a public Allow next to a deny-all is still public."""
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        everyone = "NotPrincipal" in st or _principal_is_everyone(st.get("Principal"))
        if everyone and not _pinned_by_condition(st.get("Condition")):
            return True
    return False


def _s3_acl_is_public(acl: Any) -> bool:
    """[BPA]: an ACL is public when it grants anything to AllUsers or AuthenticatedUsers."""
    return acl is not None and any(g.uri in S3_PUBLIC_GROUPS for grant in acl.grants for g in grant.grantees)


def _s3_acl_grants_outside_owner(acl: Any) -> bool:
    """[OWN]: with BucketOwnerEnforced the ACL may give full control to the bucket owner only."""
    from moto.s3.models import OWNER

    return acl is not None and any(g.uri or g.id != OWNER for grant in acl.grants for g in grant.grantees)


def _s3_account_blocks(account: str, partition: str, setting: str) -> bool:
    from moto.s3control.models import s3control_backends

    pab = s3control_backends[account][partition].public_access_block
    return bool(pab is not None and getattr(pab, setting))


def _s3_blocks(bucket: Any, setting: str) -> bool:
    """The most restrictive of the bucket's and the owner account's setting applies [BPA]."""
    pab = bucket.public_access_block
    return bool(pab is not None and getattr(pab, setting)) or _s3_account_blocks(
        bucket.account_id, bucket.partition, setting
    )


def _s3_ownership_enforced(rule: Any) -> bool:
    return rule == "BucketOwnerEnforced" or (
        isinstance(rule, dict) and any(r.get("ObjectOwnership") == "BucketOwnerEnforced" for r in rule.get("Rules", []))
    )


def _s3_block_public_access_and_object_ownership() -> None:
    """S3 refuses these puts; moto accepts them all:
    - PutBucketPolicy of a public policy while BlockPublicPolicy is on for the bucket or its account:
      403 AccessDenied [PABC]. Enabling the setting does not touch a policy already in place.
    - PutBucketAcl, and CreateBucket with an ACL, granting AllUsers or AuthenticatedUsers while
      BlockPublicAcls is on (bucket or account): 403 AccessDenied [PABC].
    - PutBucketOwnershipControls(BucketOwnerEnforced), and CreateBucket with it, while the bucket ACL
      grants anything outside the bucket owner: 400 InvalidBucketAclWithObjectOwnership [OWN].
    - PutBucketAcl granting outside the owner while BucketOwnerEnforced: 400 AccessControlListNotSupported [OWN].
    And GetBucketAcl answers every grant (below), so that an ACL read back can be put back exactly.
    """
    import json

    from moto.s3.exceptions import S3AccessDeniedError, S3ClientError
    from moto.s3.models import FakeAcl, FakeGrant, S3Backend
    from moto.s3.responses import S3Response
    from moto.utilities.utils import get_partition

    class InvalidBucketAclWithObjectOwnership(S3ClientError):
        code = "InvalidBucketAclWithObjectOwnership"
        message = "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"

    class AccessControlListNotSupported(S3ClientError):
        code = "AccessControlListNotSupported"
        message = "The bucket does not allow ACLs"

    put_policy = S3Backend.put_bucket_policy
    put_acl = S3Backend.put_bucket_acl
    put_ownership = S3Backend.put_bucket_ownership_controls
    bucket_put = S3Response._bucket_response_put
    acl_to_dict_first_only = S3Response._acl_to_dict

    def put_bucket_policy(self: Any, bucket_name: str, policy: bytes) -> None:
        bucket = self.get_bucket(bucket_name)
        try:
            document = json.loads(policy)
        except ValueError:
            document = None
        if isinstance(document, dict) and _s3_blocks(bucket, "block_public_policy") and s3_policy_is_public(document):
            raise S3AccessDeniedError()
        put_policy(self, bucket_name, policy)

    def put_bucket_acl(self: Any, bucket_name: str, acl: Any) -> None:
        bucket = self.get_bucket(bucket_name)
        if _s3_ownership_enforced(bucket.ownership_rule) and _s3_acl_grants_outside_owner(acl):
            raise AccessControlListNotSupported()
        if _s3_blocks(bucket, "block_public_acls") and _s3_acl_is_public(acl):
            raise S3AccessDeniedError()
        put_acl(self, bucket_name, acl)

    def put_bucket_ownership_controls(self: Any, bucket_name: str, ownership: Any) -> None:
        bucket = self.get_bucket(bucket_name)
        if _s3_ownership_enforced(ownership) and _s3_acl_grants_outside_owner(bucket.acl):
            raise InvalidBucketAclWithObjectOwnership()
        put_ownership(self, bucket_name, ownership)

    def _bucket_response_put(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if not querystring:  # CreateBucket: refuse before the bucket exists, as S3 does
            acl = self._acl_from_headers(request.headers)
            enforced = request.headers.get("x-amz-object-ownership") == "BucketOwnerEnforced"
            if enforced and _s3_acl_grants_outside_owner(acl):
                raise InvalidBucketAclWithObjectOwnership()
            partition = get_partition(self.region)
            if _s3_acl_is_public(acl) and _s3_account_blocks(self.current_account, partition, "block_public_acls"):
                raise S3AccessDeniedError()
        return bucket_put(self, request, bucket_name, querystring)

    def acl_to_dict(acl: Any) -> dict[str, Any]:
        """GetBucketAcl lists one grant per grantee and permission; moto keeps a canned ACL's grant to
        several permissions (log-delivery-write: WRITE and READ_ACP) as one and answers only the first."""
        if acl is not None:
            acl = FakeAcl(
                [FakeGrant([g], [p]) for grant in acl.grants for g in grant.grantees for p in grant.permissions]
            )
        return acl_to_dict_first_only(acl)

    S3Response._acl_to_dict = staticmethod(acl_to_dict)  # type: ignore[method-assign]
    S3Backend.put_bucket_policy = put_bucket_policy  # type: ignore[method-assign]
    S3Backend.put_bucket_acl = put_bucket_acl  # type: ignore[method-assign]
    S3Backend.put_bucket_ownership_controls = put_bucket_ownership_controls  # type: ignore[method-assign]
    S3Response._bucket_response_put = _bucket_response_put  # type: ignore[method-assign]
