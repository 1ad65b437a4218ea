"""WAF IP block: add the finding's remote address to a WAFv2 IP set named by a preference.

The address is recorded (with whether it was already in the set) before the set changes. Restore
removes only an address this incident added, and only if no other open incident still needs it.
Only public addresses are blocked: a private, loopback, link-local, multicast, reserved or unspecified
address (IPv4-mapped ones judged as their IPv4 address) is planned as not blocked, with the reason.
"""

from __future__ import annotations

import ipaddress

from responder.adapters.waf import IpSetRef, WafGateway
from responder.domain.recorder import Recorder
from responder.models.incident import WafChange

# Documentation ranges (RFC 5737, RFC 3849) are not public, but no traffic comes from them, so a block
# can harm nothing; findings' samples and the tests use them as the attacker's address.
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT: behind it, many unrelated hosts


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address; an IPv4-mapped IPv6 address (`::ffff:10.0.0.5`) is the IPv4 address it carries."""
    address = ipaddress.ip_address(ip.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refusal(ip: str) -> str | None:
    """Why the address must not be blocked, or None for a public address. A finding's remote address is
    whatever the finding says: blocking a private, loopback, link-local (the instance metadata service),
    multicast, reserved or unspecified address would cut off the account's own traffic, not an attacker's.
    Raises ValueError for text that is not an address."""
    address = _address(ip)
    if any(address in net for net in _DOCUMENTATION if net.version == address.version):
        return None
    shown = f"{ip.strip()}" + (f" (IPv4 {address})" if str(address) != ip.strip() else "")
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (
            isinstance(address, ipaddress.IPv4Address) and address == ipaddress.IPv4Address("255.255.255.255"),
            "broadcast",
        ),
        (address.version == 4 and address in _SHARED, "shared (carrier-grade NAT)"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "not globally routable"),
    )
    kind = next((why for hit, why in checks if hit), None)
    if kind is None:
        return None
    return f"remote address {shown} is {kind}; only public addresses are blocked"


def cidr(ip: str) -> tuple[str, str]:
    """(`1.2.3.4/32` or `2001:db8::1/128`, `IPV4` or `IPV6`); raises ValueError for anything else.
    An IPv4-mapped IPv6 address is blocked as its IPv4 address, the one its traffic comes from."""
    address = _address(ip)
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
        refused = refusal(remote_ip)
    except ValueError:
        return None, f"remote address {remote_ip!r} is not an IP address"
    if refused:
        return None, refused
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
