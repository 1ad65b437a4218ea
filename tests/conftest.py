"""Shared test set-up: fake credentials, no network, no tracing; every AWS call goes to moto."""

from __future__ import annotations

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "ContainmentResponder",
        "POWERTOOLS_SERVICE_NAME": "containment-responder",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3
import pytest
from hypothesis import HealthCheck, settings
from moto import mock_aws

from responder.adapters.aws import reset_clients
from responder_cli.sandbox import moto_fidelity

moto_fidelity.apply()

# Property tests: each example builds its own moto world, so examples are costly. CI runs the default
# profile; HYPOTHESIS_PROFILE=nightly runs many more.
_common = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("default", max_examples=25, **_common)
settings.register_profile("nightly", max_examples=500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def aws():
    """An in-process moto for the test."""
    reset_clients()
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")
    reset_clients()
