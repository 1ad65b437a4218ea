"""Preference evaluation: which stored rule decides what happens to an incident."""

from __future__ import annotations

from responder.models.preferences import DEFAULT_RULE_ID, Decision, MatchFacts, Mode, OnTimeout, Rule


def decide(rules: list[Rule], facts: MatchFacts) -> Decision:
    """Pick the matching rule with the lowest priority number (ties broken by id)."""
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        ok, why = rule.matches(facts)
        if ok:
            return Decision(
                mode=rule.mode,
                on_timeout=rule.on_timeout,
                rule_id=rule.id,
                dry_run=rule.dry_run,
                reason=f"rule {rule.id} (priority {rule.priority}): {why}",
                actions=rule.actions,
            )
    return Decision(
        mode=Mode.APPROVE,
        on_timeout=OnTimeout.EXPIRE,
        rule_id=DEFAULT_RULE_ID,
        reason="no stored rule matched; the built-in default is approve",
    )
