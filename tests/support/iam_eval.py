"""A small IAM policy evaluator for identity policies (and a role's trust policy): explicit Deny wins,
then an Allow whose action, resource and conditions all match; otherwise an implicit deny.

Semantics follow the IAM policy evaluation logic and the condition operator reference:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

It fails closed wherever the templates could be read two ways:
- a condition key that the request context does not hold makes an Allow statement not apply (even under a
  negated operator, where IAM would let it apply) and makes a Deny statement apply; `...IfExists` and `Null`
  keep their documented meaning;
- an operator this module does not implement, or a policy variable (`${...}`), raises `PolicyError`
  instead of guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

ContextValue = str | list[str]


class PolicyError(ValueError):
    """The policy uses something this evaluator does not implement; nothing is guessed."""


class Decision(Enum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "implicitly denied (no statement allows it)"
    EXPLICIT_DENY = "explicitly denied"


@dataclass(frozen=True)
class Request:
    """One authorization: an action on one resource ARN, with the request's condition context."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    principal: str | None = None  # the caller's ARN, for trust (resource-based) policies

    def describe(self) -> str:
        return f"{self.action} on {self.resource}"


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    statement: Mapping[str, Any] | None = None  # the deciding statement, where one decided

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED


@lru_cache(maxsize=4096)
def _pattern(glob: str, case_sensitive: bool) -> re.Pattern[str]:
    if "${" in glob:
        raise PolicyError(f"policy variables are not supported: {glob!r}")
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def glob_match(glob: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's wildcard match: `*` any run of characters (including none), `?` any one character."""
    return bool(_pattern(glob, case_sensitive).match(value))


def arn_match(pattern: str, arn: str) -> bool:
    """ArnLike: each of the six colon-separated parts matches separately (a `*` never spans a colon
    between partition, service, region and account), the resource part may hold colons."""
    if pattern == "*":
        return True
    p_parts = pattern.split(":", 5)
    a_parts = arn.split(":", 5)
    if len(p_parts) != 6 or len(a_parts) != 6:
        return False
    return all(glob_match(p, a) for p, a in zip(p_parts, a_parts, strict=True))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _string_op(name: str) -> Any:
    ops = {
        "StringEquals": lambda p, v: p == v,
        "StringNotEquals": lambda p, v: p == v,
        "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
        "StringNotEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
        "StringLike": lambda p, v: glob_match(p, v),
        "StringNotLike": lambda p, v: glob_match(p, v),
        "ArnEquals": lambda p, v: arn_match(p, v),
        "ArnLike": lambda p, v: arn_match(p, v),
        "ArnNotEquals": lambda p, v: arn_match(p, v),
        "ArnNotLike": lambda p, v: arn_match(p, v),
        "Bool": lambda p, v: p.lower() == v.lower(),
    }
    return ops.get(name)


NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, ContextValue], allow: bool) -> bool:
    """One operator on one key. `allow` chooses the fail-closed reading of a key the context lacks."""
    qualifier = ""
    if operator.startswith(("ForAnyValue:", "ForAllValues:")):
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    present = key in context
    values = [str(v) for v in _as_list(context.get(key))]
    patterns = [str(p).lower() if isinstance(p, bool) else str(p) for p in _as_list(expected)]
    if base == "Null":
        if qualifier or if_exists:
            raise PolicyError(f"unsupported condition operator {operator!r}")
        wants_absent = patterns == ["true"]
        return (not present) == wants_absent
    compare = _string_op(base)
    if compare is None:
        raise PolicyError(f"unsupported condition operator {operator!r} (key {key})")
    if not present:
        if if_exists:
            return True
        return not allow  # fail closed: an Allow does not apply, a Deny does
    negated = base in NEGATED

    def one(value: str) -> bool:
        hit = any(compare(p, value) for p in patterns)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in values)
    if len(values) != 1:
        raise PolicyError(f"{operator} on multi-valued key {key} needs ForAnyValue: or ForAllValues:")
    return one(values[0])


def conditions_hold(conditions: Mapping[str, Any] | None, context: Mapping[str, ContextValue], allow: bool) -> bool:
    """Every operator block and every key in it must hold (AND); the values under one key are ORed."""
    for operator, block in (conditions or {}).items():
        if not isinstance(block, Mapping):
            raise PolicyError(f"condition {operator!r} is not a key-to-value map")
        for key, expected in block.items():
            if not _condition_holds(operator, key, expected, context, allow):
                return False
    return True


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(glob_match(p, action, case_sensitive=False) for p in _as_list(statement["Action"]))
    if "NotAction" in statement:
        return not any(glob_match(p, action, case_sensitive=False) for p in _as_list(statement["NotAction"]))
    raise PolicyError(f"statement has neither Action nor NotAction: {statement}")


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "Resource" in statement:
        return any(arn_match(str(p), resource) for p in _as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(arn_match(str(p), resource) for p in _as_list(statement["NotResource"]))
    return True  # trust policies name a Principal instead of a Resource


def _principal_matches(statement: Mapping[str, Any], principal: str | None) -> bool:
    if "Principal" not in statement and "NotPrincipal" not in statement:
        return True
    if "NotPrincipal" in statement:
        raise PolicyError("NotPrincipal is not supported")
    if principal is None:
        return False
    named = statement["Principal"]
    if named == "*":
        return True
    services = [str(a) for a in _as_list(named.get("Service") if isinstance(named, Mapping) else None)]
    if principal in services:  # a service principal, e.g. cloudwatch.amazonaws.com
        return True
    arns = [str(a) for a in _as_list(named.get("AWS") if isinstance(named, Mapping) else None)]
    account = principal.split(":")[4] if principal.count(":") >= 5 else ""
    for arn in arns:
        if arn in ("*", principal) or arn == account:
            return True
        if arn.endswith(":root") and arn.split(":")[4] == account:
            return True
    return False


def statements(documents: Iterable[Any]) -> list[Mapping[str, Any]]:
    """The statements of policy documents given as dicts or JSON strings."""
    out: list[Mapping[str, Any]] = []
    for document in documents:
        doc = json.loads(document) if isinstance(document, str) else document
        for statement in _as_list(doc.get("Statement")):
            effect = statement.get("Effect")
            if effect not in ("Allow", "Deny"):
                raise PolicyError(f"statement effect must be Allow or Deny: {statement}")
            out.append(statement)
    return out


def evaluate(policy_statements: Iterable[Mapping[str, Any]], request: Request) -> Outcome:
    allowed_by: Mapping[str, Any] | None = None
    for statement in policy_statements:
        allow = statement["Effect"] == "Allow"
        if not (
            _action_matches(statement, request.action)
            and _resource_matches(statement, request.resource)
            and _principal_matches(statement, request.principal)
        ):
            continue
        if not conditions_hold(statement.get("Condition"), request.context, allow):
            continue
        if not allow:
            return Outcome(Decision.EXPLICIT_DENY, statement)
        allowed_by = allowed_by or statement
    if allowed_by is not None:
        return Outcome(Decision.ALLOWED, allowed_by)
    return Outcome(Decision.IMPLICIT_DENY)
