"""Build the CDK app. Used by app.py (cdk synth / deploy), the tests and the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import from_context
from infra.member_stack import MemberRoleStack
from infra.stack import ResponderStack


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> tuple[cdk.App, ResponderStack]:
    """The app with the responder stack, cdk-nag AwsSolutions applied. Makes no AWS calls."""
    app = cdk.App(context=context or {}, outdir=outdir)
    config = from_context(app.node.try_get_context)
    stack = ResponderStack(
        app,
        config.stack_name,
        config=config,
        description="Containment responder: reversible incident containment for GuardDuty findings",
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=True),
    )
    MemberRoleStack(
        app,
        f"{config.stack_name}MemberRole",
        responder_stack_name=config.stack_name,
        member_role_name=config.member_role_name,
        description="Containment responder member role: deploy in each member account (or by StackSet)",
        # Standalone template: no assets and no bootstrap stack needed, so a StackSet can deploy it.
        synthesizer=cdk.BootstraplessSynthesizer(),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def synth_template(context: dict[str, Any] | None = None, outdir: str | None = None) -> tuple[dict[str, Any], Path]:
    """Synthesize and return (template, cloud assembly directory)."""
    app, stack = build_app(context, outdir)
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    template = json.loads(Path(assembly.directory, artifact.template_file).read_text())
    return template, Path(assembly.directory)
