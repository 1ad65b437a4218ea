"""The models build their validators on first use (defer_build), so a schema pydantic cannot compile
would only fail in production, on the first event. Build every one of them here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from pydantic import BaseModel

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
