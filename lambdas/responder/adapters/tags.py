"""What protection checks read of a resource, per type: whether it exists, its tags and, for IAM, its real ARN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from responder.adapters.ec2 import Ec2Gateway, InstanceNotFound
from responder.adapters.iam import IamGateway, Principal
from responder.adapters.s3 import S3Gateway
from responder.models.common import ResourceType
from responder.models.resource import Described, ResourceRef


class ResourceTags:
    """Reads a resource with clients for its account and region. None means it does not exist."""

    def __init__(self, clients: Callable[[str, str, str], Any]) -> None:
        self._clients = clients

    def describe(self, ref: ResourceRef) -> Described | None:
        def clients(service: str, region: str) -> Any:
            return self._clients(service, ref.account, region)

        if ref.type is ResourceType.EC2_INSTANCE:
            gw = Ec2Gateway(clients("ec2", ref.region), None, None)
            try:
                return Described(gw.describe_instance(ref.id).tags)
            except InstanceNotFound:
                return None
        if ref.type in (ResourceType.IAM_USER, ResourceType.IAM_ROLE):
            kind: Principal = "user" if ref.type is ResourceType.IAM_USER else "role"
            found = IamGateway(clients("iam", ref.region)).identity(kind, ref.id)
            return None if found is None else Described(found[1], found[0])
        if ref.type is ResourceType.S3_BUCKET:
            tags = S3Gateway(clients("s3", ref.region)).tags(ref.id)
            return None if tags is None else Described(tags)
        return Described({})
