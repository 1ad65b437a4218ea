"""cdk-nag acknowledgments: each one on one construct, for one finding, with its reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


def checkov_skip(construct: IConstruct, check: str, reason: str) -> None:
    """A checkov finding triaged on one resource: CloudFormation metadata that checkov reads
    (`Metadata.checkov.skip`), with the reason beside it in the template."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to carry a checkov skip")
    existing = resource.get_metadata("checkov") or {}
    skips = [s for s in existing.get("skip", []) if s["id"] != check]
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check, "comment": reason}]})


LOGS_AWS_MANAGED = (
    "Encrypted at rest by CloudWatch Logs' own keys; the responder's logs carry no secrets (a test captures "
    "a full run's logs and searches them for the task token, HMAC key and key secrets)."
)
