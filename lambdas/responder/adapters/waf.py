"""WAFv2 IP set updates, with the set's lock token and retries on optimistic-lock failures."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from responder.adapters.aws import error_code

MAX_LOCK_RETRIES = 10


@dataclass(frozen=True)
class IpSetRef:
    arn: str
    region: str
    scope: str  # REGIONAL or CLOUDFRONT
    name: str
    id: str
    account: str = ""  # the account that owns the set: its clients are that account's, not the resource's

    @classmethod
    def parse(cls, arn: str) -> IpSetRef:
        # arn:aws:wafv2:us-east-1:123456789012:regional/ipset/name/id
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "wafv2":
            raise ValueError(f"{arn} is not a WAFv2 IP set ARN")
        scope, kind, name, set_id = parts[5].split("/", 3)
        if kind != "ipset":
            raise ValueError(f"{arn} is not a WAFv2 IP set ARN")
        return cls(arn, parts[3], "CLOUDFRONT" if scope == "global" else "REGIONAL", name, set_id, parts[4])


class WafGateway:
    def __init__(self, wafv2: Any) -> None:
        self.wafv2 = wafv2

    def _read(self, ref: IpSetRef) -> tuple[dict[str, Any], str]:
        resp = self.wafv2.get_ip_set(Name=ref.name, Scope=ref.scope, Id=ref.id)
        return resp["IPSet"], str(resp["LockToken"])

    def get(self, ref: IpSetRef) -> tuple[list[str], str, str]:
        """(addresses, IP version, lock token)."""
        ip_set, token = self._read(ref)
        return list(ip_set.get("Addresses", [])), str(ip_set.get("IPAddressVersion", "IPV4")), token

    def change(self, ref: IpSetRef, edit: Callable[[list[str]], list[str] | None]) -> bool:
        """Apply `edit` to the set's addresses (None means nothing to change). Retries on lock conflicts.

        UpdateIPSet replaces every mutable field, the description included: the one read with the lock
        token is sent back, or the update would clear it.
        https://docs.aws.amazon.com/waf/latest/APIReference/API_UpdateIPSet.html
        """
        for attempt in range(MAX_LOCK_RETRIES):
            ip_set, token = self._read(ref)
            wanted = edit(list(ip_set.get("Addresses", [])))
            if wanted is None:
                return False
            kept = {"Description": ip_set["Description"]} if ip_set.get("Description") else {}
            try:
                self.wafv2.update_ip_set(
                    Name=ref.name, Scope=ref.scope, Id=ref.id, Addresses=wanted, LockToken=token, **kept
                )
                return True
            except ClientError as exc:
                if error_code(exc) != "WAFOptimisticLockException" or attempt == MAX_LOCK_RETRIES - 1:
                    raise
                time.sleep(random.uniform(0, 0.05 * 2**attempt))
        return False
