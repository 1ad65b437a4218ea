"""Tag look-ups for protection checks, per resource type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from responder.adapters.ec2 import Ec2Gateway, InstanceNotFound
from responder.adapters.iam import IamGateway
from responder.adapters.s3 import S3Gateway
from responder.models.common import ResourceType
from responder.models.resource import ResourceRef


class ResourceTags:
    """Reads a resource's tags with clients for its account and region. None means it does not exist."""

    def __init__(self, clients: Callable[[str, str, str], Any]) -> None:
        self._clients = clients

    def tags(self, ref: ResourceRef) -> dict[str, str] | None:
        def clients(service: str, region: str) -> Any:
            return self._clients(service, ref.account, region)

        return self._tags(ref, clients)

    def _tags(self, ref: ResourceRef, clients: Callable[[str, str], Any]) -> dict[str, str] | None:
        if ref.type is ResourceType.EC2_INSTANCE:
            gw = Ec2Gateway(clients("ec2", ref.region), None, None)
            try:
                return gw.describe_instance(ref.id).tags
            except InstanceNotFound:
                return None
        if ref.type is ResourceType.IAM_USER:
            return IamGateway(clients("iam", ref.region)).tags("user", ref.id)
        if ref.type is ResourceType.IAM_ROLE:
            return IamGateway(clients("iam", ref.region)).tags("role", ref.id)
        if ref.type is ResourceType.S3_BUCKET:
            return S3Gateway(clients("s3", ref.region)).tags(ref.id)
        return {}
