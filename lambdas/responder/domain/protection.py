"""Invariant 3: never contain the responder itself or a protected resource, and let no attacker grant itself either.

Protection is decided only from what the resource's owner cannot write:
- the responder's own resources are exact ARNs (its roles, functions and state machines, read from the
  deployed stack, and the member role in the resource's account), never name patterns;
- operators protect resources with the `protectedArns` CDK context (globs allowed), matched against the
  resource's real ARN, IAM path included, as well as the ARN built from the finding.
The `responder:exempt` tag is not honoured: whoever controls a resource can write its tags
(`ec2:CreateTags`, `iam:TagUser`, `s3:PutBucketTagging`). A resource carrying it is contained like any
other, and the incident says that the tag was seen and why it was not followed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

EXEMPT_TAG = "responder:exempt"


def protection_reason(arns: Sequence[str], protected: Iterable[str], own: Iterable[str]) -> str | None:
    """Why the resource must not be touched, or None. `arns` are the resource's ARNs: the one built from the
    finding and, for an IAM principal, its real ARN with its path. `own` is exact; `protected` allows `*`."""
    own_arns = set(own)
    for arn in arns:
        if arn in own_arns:
            return f"{arn} is one of the responder's own resources"
    for pattern in protected:
        for arn in arns:
            if fnmatch.fnmatchcase(arn, pattern):
                return f"{arn} is on the protected list ({pattern})"
    return None


def exempt_tag_note(tags: dict[str, str]) -> str | None:
    """What to tell the team when the resource carries the exemption tag, which is not honoured."""
    if EXEMPT_TAG not in tags:
        return None
    return (
        f"the resource carries the tag {EXEMPT_TAG}={tags[EXEMPT_TAG][:64]!r}; it is not honoured, because whoever "
        "controls the resource can write its tags. To exempt a resource, list its ARN in the protectedArns "
        "CDK context."
    )
