"""Answers to CloudFormation custom-resource requests (the response is a PUT to a pre-signed URL)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def send_response(url: str, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's pre-signed https URL
        url, data=data, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(data))}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
        resp.read()
