"""The API Gateway REST proxy request (payload format 1.0), as the approval API reads it."""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel, ConfigDict, Field


class RequestIdentity(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    source_ip: str | None = Field(default=None, alias="sourceIp")
    user_agent: str | None = Field(default=None, alias="userAgent")


class RequestContext(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    request_id: str | None = Field(default=None, alias="requestId")
    identity: RequestIdentity = Field(default_factory=RequestIdentity)


class ApiRequest(BaseModel):
    """What a Lambda proxy integration receives. Header names are matched case-insensitively."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    http_method: str = Field(alias="httpMethod", min_length=1)
    resource: str
    path_parameters: dict[str, str] | None = Field(default=None, alias="pathParameters")
    query_string_parameters: dict[str, str] | None = Field(default=None, alias="queryStringParameters")
    headers: dict[str, str] | None = None
    body: str | None = None
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")
    request_context: RequestContext = Field(default_factory=RequestContext, alias="requestContext")

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((v for k, v in (self.headers or {}).items() if k.lower() == wanted), "")

    def path_parameter(self, name: str) -> str:
        return (self.path_parameters or {}).get(name, "")

    def text(self) -> str:
        """The body as text. A body marked base64 that is not base64 raises ValueError."""
        if not self.body:
            return ""
        if not self.is_base64_encoded:
            return self.body
        try:
            return base64.b64decode(self.body, validate=True).decode("utf-8", errors="replace")
        except binascii.Error as exc:
            raise ValueError("the request body is not valid base64") from exc
