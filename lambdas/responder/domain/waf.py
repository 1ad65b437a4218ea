"""WAF IP block: add the finding's remote address to a WAFv2 IP set named by a preference.

The address is recorded (with whether it was already in the set) before the set changes. Restore
removes only an address this incident added, and only if no other open incident still needs it.
"""

from __future__ import annotations

import ipaddress

from responder.adapters.waf import IpSetRef, WafGateway
from responder.domain.recorder import Recorder
from responder.models.incident import WafChange


def cidr(ip: str) -> tuple[str, str]:
    """(`1.2.3.4/32` or `2001:db8::1/128`, `IPV4` or `IPV6`); raises ValueError for anything else."""
    address = ipaddress.ip_address(ip.strip())
    if address.version == 4:
        return f"{address}/32", "IPV4"
    return f"{address}/128", "IPV6"


def _in(addresses: list[str], cidr_text: str) -> bool:
    wanted = ipaddress.ip_network(cidr_text, strict=False)
    return any(ipaddress.ip_network(a, strict=False) == wanted for a in addresses)


def plan(gw: WafGateway, ip_set_arn: str, remote_ip: str) -> tuple[WafChange | None, str]:
    """The change, or None with the reason it is not made."""
    try:
        block, version = cidr(remote_ip)
    except ValueError:
        return None, f"remote address {remote_ip!r} is not an IP address"
    ref = IpSetRef.parse(ip_set_arn)
    addresses, set_version, _ = gw.get(ref)
    if set_version != version:
        return None, f"IP set {ref.name} holds {set_version} addresses; the finding's address is {version}"
    return WafChange(ip_set_arn=ip_set_arn, address=block, already_present=_in(addresses, block)), ""


def block(gw: WafGateway, change: WafChange, rec: Recorder) -> None:
    ref = IpSetRef.parse(change.ip_set_arn)

    def add(addresses: list[str]) -> list[str] | None:
        return None if _in(addresses, change.address) else [*addresses, change.address]

    if gw.change(ref, add):
        rec.applied("waf_block_ip", change.address, ip_set=ref.name)
    else:
        rec.skipped("waf_block_ip", change.address, ip_set=ref.name)
    rec.artifact("waf_address", change.address, ip_set_arn=change.ip_set_arn)


def is_blocked(gw: WafGateway, change: WafChange) -> bool:
    addresses, _, _ = gw.get(IpSetRef.parse(change.ip_set_arn))
    return _in(addresses, change.address)


def unblock(gw: WafGateway, change: WafChange, still_needed: bool, rec: Recorder) -> str | None:
    if change.already_present:
        return f"{change.address} was in the IP set before containment; left in place"
    if still_needed:
        return f"{change.address} stays in the IP set: another open incident blocked it too"
    ref = IpSetRef.parse(change.ip_set_arn)
    target = ipaddress.ip_network(change.address, strict=False)

    def remove(addresses: list[str]) -> list[str] | None:
        kept = [a for a in addresses if ipaddress.ip_network(a, strict=False) != target]
        return None if len(kept) == len(addresses) else kept

    if gw.change(ref, remove):
        rec.applied("waf_unblock_ip", change.address, ip_set=ref.name)
    return None
