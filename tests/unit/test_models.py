"""The models build their validators on first use (defer_build), so a schema pydantic cannot compile
would only fail in production, on the first event. Build every one of them here."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

import responder.models

MODELS = [
    obj
    for info in pkgutil.iter_modules(responder.models.__path__)
    for _, obj in inspect.getmembers(importlib.import_module(f"responder.models.{info.name}"), inspect.isclass)
    if issubclass(obj, BaseModel) and obj.__module__.startswith("responder.models.")
]


def test_models_are_found():
    names = {m.__name__ for m in MODELS}
    assert {"GuardDutyEvent", "Incident", "Rule", "ResourceRef"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.__module__.rsplit('.', 1)[-1]}.{m.__name__}")
def test_every_model_builds(model):
    model.model_rebuild(force=True)
    assert model.__pydantic_complete__


def _patterns(schema: object) -> list[str]:
    if isinstance(schema, dict):
        found = [schema["pattern"]] if isinstance(schema.get("pattern"), str) else []
        return found + [p for value in schema.values() for p in _patterns(value)]
    if isinstance(schema, list):
        return [p for value in schema for p in _patterns(value)]
    return []


def _handler_patterns() -> list[str]:
    """Literal `pattern=` arguments in the handlers (their environment models build at import)."""
    handlers = Path(responder.models.__file__).resolve().parents[1] / "handlers"
    return [
        kw.value.value
        for file in handlers.glob("*.py")
        for node in ast.walk(ast.parse(file.read_text()))
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "pattern" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
    ]


def test_patterns_use_ascii_classes_only():
    """pydantic-core compiles patterns with Rust's regex, where `\\d`, `\\w` and `\\s` are Unicode classes:
    they admit digits and letters of every script (an account id in Arabic-Indic digits), and `\\w`
    alone took 23 ms of every cold start to compile. Identifiers AWS defines are ASCII."""
    for model in MODELS:
        model.model_rebuild(force=True)
    from responder.handlers._containment import ContainmentEnv

    schemas = [m.__pydantic_core_schema__ for m in [*MODELS, ContainmentEnv]]
    patterns = [p for schema in schemas for p in _patterns(schema)] + _handler_patterns()
    assert len(patterns) > 20
    offending = [p for p in patterns if re.search(r"\\[dwsDWS]", p)]
    assert offending == []


def test_identifiers_in_other_scripts_are_refused():
    from responder.handlers._runtime import MemberAccessEnv

    with pytest.raises(ValidationError):
        MemberAccessEnv(responder_account_id="١٢٣٤٥٦٧٨٩٠١٢")
    with pytest.raises(ValidationError):
        MemberAccessEnv(member_role_name="Responder\u00e9Role")
    assert MemberAccessEnv(
        responder_account_id="123456789012", member_role_name="Ops+Team=1,a.b@c-d_e"
    ).member_role_name
