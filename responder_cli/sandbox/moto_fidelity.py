"""Fidelity fixes for the AWS emulator, applied by the sandbox and the test harness.

Each one makes moto behave as AWS documents, where the responder depends on it. None changes the
responder's code or the template.
"""

from __future__ import annotations

from typing import Any

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    _primary_eni_groups_are_the_instance_groups()


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
