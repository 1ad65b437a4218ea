"""The edge: an EventBridge event, as delivered, into typed findings, or a clear rejection.

GuardDuty findings (`aws.guardduty`), Security Hub ASFF findings (imported, or a custom action) and
Security Hub v2 OCSF findings. Nothing past this point sees a raw dict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from responder.models.guardduty import GuardDutyEvent
from responder.models.securityhub import ASFF_CUSTOM_ACTION, ASFF_IMPORTED, OCSF_IMPORTED, OcsfEvent, SecurityHubEvent

MAX_EVENT_BYTES = 256 * 1024
MAX_EVENT_DEPTH = 64  # the deepest real finding (ASFF, with its details) nests about a dozen levels


class MalformedFinding(ValueError):
    """The event is not a finding the responder can read. Nothing was changed."""


@dataclass(frozen=True)
class ParsedEvent:
    kind: str  # guardduty | securityhub | securityhub_v2
    event: GuardDutyEvent | SecurityHubEvent | OcsfEvent


def _depth(raw: Any) -> int:
    """How deeply the event nests objects and lists, counted without recursion; stops past the bound."""
    deepest, todo = 0, [(raw, 1)]
    while todo:
        value, depth = todo.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_EVENT_DEPTH:
            break
        children = value.values() if isinstance(value, dict) else value
        todo.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def parse_event(raw: Any) -> ParsedEvent:
    if not isinstance(raw, dict):
        raise MalformedFinding("the event is not a JSON object")
    if _depth(raw) > MAX_EVENT_DEPTH:
        raise MalformedFinding(f"the event is nested more than {MAX_EVENT_DEPTH} levels deep; findings are not")
    try:
        return _parse(raw)
    except RecursionError:  # not expected past the depth bound; never let it escape as anything else
        raise MalformedFinding("the event is nested too deeply to read") from None


def _parse(raw: dict[str, Any]) -> ParsedEvent:
    size = len(json.dumps(raw, default=str))
    if size > MAX_EVENT_BYTES:
        raise MalformedFinding(f"the event is {size} bytes; EventBridge events are at most {MAX_EVENT_BYTES}")
    source, detail_type = raw.get("source"), raw.get("detail-type")
    if source == "aws.securityhub" and detail_type in (ASFF_IMPORTED, ASFF_CUSTOM_ACTION):
        return ParsedEvent("securityhub", _validate(SecurityHubEvent, raw, "Security Hub finding event"))
    if source == "aws.securityhub" and detail_type == OCSF_IMPORTED:
        return ParsedEvent("securityhub_v2", _validate(OcsfEvent, raw, "Security Hub v2 finding event"))
    return ParsedEvent("guardduty", _validate(GuardDutyEvent, raw, "GuardDuty finding event"))


def _validate(model: type[Any], raw: dict[str, Any], what: str) -> Any:
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in exc.errors()[:10]]
        raise MalformedFinding(f"malformed {what}: " + "; ".join(problems)) from None
    assert isinstance(parsed, BaseModel)
    return parsed
