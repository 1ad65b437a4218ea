"""Clients for the account and region a resource lives in.

In the responder's own account the clients use the function's own role. In any other account they
use the member role (`arn:<partition>:iam::<account>:role/<member role name>`), assumed with the
ExternalId the MemberRoleStack was deployed with. Credentials are cached per account and renewed five
minutes before they expire. A role that cannot be assumed raises `MemberAccessError`, which names the
account, before any call that could change something.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.exceptions import ClientError

from responder.adapters.aws import client, error_code
from responder.models.resource import role_arn

SESSION_SECONDS = 900
RENEW_BEFORE_SECONDS = 300


def _own_region() -> str | None:
    """The region the function runs in (Lambda sets AWS_REGION); None falls back to the SDK's default."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


class MemberAccessError(RuntimeError):
    """The member role in the resource's account could not be assumed. Nothing was changed."""


@dataclass
class _Held:
    session: botocore.session.Session
    expires: float


class AccountClients:
    def __init__(
        self,
        own_account: str | None,
        member_role_name: str,
        external_id: str | None,
        session_name: str = "containment-responder",
    ) -> None:
        self.own_account = own_account
        self.member_role_name = member_role_name
        self.external_id = external_id
        self.session_name = session_name
        self._lock = threading.Lock()
        self._held: dict[str, _Held] = {}

    def is_own(self, account: str) -> bool:
        return self.own_account is None or account == self.own_account

    def role_arn(self, account: str, region: str) -> str:
        return role_arn(account, region, self.member_role_name)

    def client(self, service: str, account: str, region: str) -> Any:
        if self.is_own(account):
            return client(service, region)
        return client(service, region, self._session(account, region))

    def _session(self, account: str, region: str) -> botocore.session.Session:
        with self._lock:
            held = self._held.get(account)
            if held is not None and held.expires - time.time() > RENEW_BEFORE_SECONDS:
                return held.session
            role = self.role_arn(account, region)
            if not self.external_id:
                raise MemberAccessError(
                    f"account {account}: cross-account containment is not configured (no member ExternalId); "
                    f"deploy the MemberRoleStack there and set memberExternalId"
                )
            try:
                # STS in the function's own region (its regional endpoint), never the resource's: a
                # resource in an opt-in region the responder's account has not enabled would fail.
                creds = client("sts", _own_region()).assume_role(
                    RoleArn=role,
                    RoleSessionName=self.session_name[:64],
                    ExternalId=self.external_id,
                    DurationSeconds=SESSION_SECONDS,
                )["Credentials"]
            except ClientError as exc:
                raise MemberAccessError(
                    f"account {account}: cannot assume {role} ({error_code(exc)}: "
                    f"{exc.response.get('Error', {}).get('Message', '')}); is the MemberRoleStack deployed there "
                    "with this responder's ExternalId?"
                ) from None
            session = botocore.session.Session()
            session.set_credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
            expires = creds["Expiration"]
            expiry = expires.timestamp() if hasattr(expires, "timestamp") else time.time() + SESSION_SECONDS
            self._held[account] = _Held(session, expiry)
            return session

    def account_alias(self, account: str, region: str) -> str | None:
        """The account's alias, where the role may read it (iam:ListAccountAliases); None otherwise."""
        try:
            aliases = self.client("iam", account, region).list_account_aliases().get("AccountAliases", [])
        except (ClientError, MemberAccessError):
            return None
        return str(aliases[0]) if aliases else None
