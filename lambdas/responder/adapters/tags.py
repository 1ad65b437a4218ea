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
    """Reads a resource's tags with clients for its region. None means the resource does not exist."""

    def __init__(self, clients: Callable[[str, str], Any]) -> None:
        self.clients = clients

    def tags(self, ref: ResourceRef) -> dict[str, str] | None:
        if ref.type is ResourceType.EC2_INSTANCE:
            gw = Ec2Gateway(self.clients("ec2", ref.region), None, None)
            try:
                return gw.describe_instance(ref.id).tags
            except InstanceNotFound:
                return None
        if ref.type is ResourceType.IAM_USER:
            return IamGateway(self.clients("iam", ref.region)).tags("user", ref.id)
        if ref.type is ResourceType.IAM_ROLE:
            return IamGateway(self.clients("iam", ref.region)).tags("role", ref.id)
        if ref.type is ResourceType.S3_BUCKET:
            return S3Gateway(self.clients("s3", ref.region)).tags(ref.id)
        return {}
