"""Invariant 3: never contain the responder itself, exempt-tagged resources, or protected ARNs."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

EXEMPT_TAG = "responder:exempt"


def protection_reason(arn: str, tags: dict[str, str], protected: Iterable[str], own: Iterable[str]) -> str | None:
    """Why the resource must not be touched, or None. ARN lists accept `*` globs."""
    for pattern in own:
        if fnmatch.fnmatchcase(arn, pattern):
            return f"{arn} is one of the responder's own resources ({pattern})"
    for pattern in protected:
        if fnmatch.fnmatchcase(arn, pattern):
            return f"{arn} is on the protected list ({pattern})"
    if tags.get(EXEMPT_TAG, "").strip().lower() == "true":
        return f"{arn} is tagged {EXEMPT_TAG}=true"
    return None
