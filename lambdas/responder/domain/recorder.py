"""Collects what a containment or restore did, with timestamps, for the incident record."""

from __future__ import annotations

from dataclasses import dataclass, field

from responder.models.incident import ActionStatus, AppliedAction, Artifact, ArtifactKind, Incident, TimelineEntry

# Timeline events that mean the resource's owner wrote under the responder's reserved names before it acted
# (a decoy inline policy or bucket statement) or changed its deny-all managed policy: evidence, and alarmed.
EVIDENCE_EVENTS = frozenset({"decoy_policy", "reserved_sid_decoy", "tampered_deny_all_policy"})
# A restore step that left an attribute as an operator changed it after containment (reported).
KEEP_OPERATOR_CHANGE = "keep_operator_change"


def kept_attributes(incident: Incident) -> set[str]:
    """The attributes restore kept as an operator changed them after containment."""
    return {a.detail.get("attribute", "") for a in incident.actions if a.action == KEEP_OPERATOR_CHANGE}


@dataclass
class Recorder:
    actions: list[AppliedAction] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    notes: list[TimelineEntry] = field(default_factory=list)

    def applied(self, action: str, target: str, **detail: str) -> None:
        self.actions.append(AppliedAction(action=action, target=target, status=ActionStatus.APPLIED, detail=detail))

    def skipped(self, action: str, target: str, **detail: str) -> None:
        self.actions.append(AppliedAction(action=action, target=target, status=ActionStatus.SKIPPED, detail=detail))

    def artifact(self, kind: ArtifactKind, artifact_id: str, **detail: str) -> None:
        self.artifacts.append(Artifact(kind=kind, id=artifact_id, detail=detail))

    def note(self, event: str, detail: str = "") -> None:
        self.notes.append(TimelineEntry(event=event, detail=detail))

    def flush_into(self, incident: Incident) -> None:
        incident.actions.extend(self.actions)
        known = {(a.kind, a.id) for a in incident.artifacts}
        incident.artifacts.extend(a for a in self.artifacts if (a.kind, a.id) not in known)
        for note in self.notes:
            incident.add_to_timeline(note)
