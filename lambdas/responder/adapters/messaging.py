"""SNS notifications, Step Functions callbacks and the approval signing key."""

from __future__ import annotations

import json
import string
from typing import Any

from botocore.exceptions import ClientError

from responder.adapters.aws import error_code

SNS_SUBJECT_MAX = 100


def sns_subject(subject: str) -> str:
    """The subject as SNS accepts it: ASCII text beginning with a letter, number or punctuation mark, no line
    breaks or controls, under 100 characters (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
    Other characters are written as escapes (\\u00e9), so a name from a finding stays recognisable."""
    text = " ".join(subject.split())
    text = "".join(ch if " " <= ch <= "~" else ch.encode("unicode_escape").decode("ascii") for ch in text)
    text = text or "(no subject)"
    if not (text[0].isalnum() or text[0] in string.punctuation):
        text = "-" + text
    if len(text) >= SNS_SUBJECT_MAX:
        text = text[: SNS_SUBJECT_MAX - 4] + "..."
    return text


class Notifier:
    def __init__(self, topic_arn: str, sns: Any) -> None:
        self.topic_arn = topic_arn
        self.sns = sns

    def send(self, subject: str, body: str, attributes: dict[str, str] | None = None) -> str:
        clean = sns_subject(subject)
        resp = self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=clean,
            Message=body,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in (attributes or {}).items()},
        )
        return str(resp["MessageId"])


class TaskGone(RuntimeError):
    """The workflow no longer waits on this task token (timed out, or the execution ended)."""


class WorkflowCallbacks:
    def __init__(self, sfn: Any) -> None:
        self.sfn = sfn

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        try:
            self.sfn.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as exc:
            if error_code(exc) in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                raise TaskGone(error_code(exc)) from None  # never echo the token
            raise

    def start_restore(self, state_machine_arn: str, incident_id: str, options: dict[str, Any]) -> str:
        resp = self.sfn.start_execution(
            stateMachineArn=state_machine_arn, input=json.dumps({"incident_id": incident_id, **options})
        )
        return str(resp["executionArn"])


class WorkflowStarter:
    """Starts containment executions under deterministic names: a name already used means the finding
    already has its execution, and nothing new is started."""

    def __init__(self, sfn: Any, state_machine_arn: str) -> None:
        self.sfn = sfn
        self.state_machine_arn = state_machine_arn

    def start(self, name: str, payload: str) -> bool:
        try:
            self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=payload)
        except ClientError as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                return False
            raise
        return True


class SigningKey:
    """The HMAC key for approval links, read once per container from Secrets Manager."""

    def __init__(self, secret_id: str, secretsmanager: Any) -> None:
        self.secret_id = secret_id
        self.secretsmanager = secretsmanager
        self._key: bytes | None = None

    def get(self) -> bytes:
        if self._key is None:
            value = self.secretsmanager.get_secret_value(SecretId=self.secret_id)["SecretString"]
            if len(value) < 32:
                raise RuntimeError("the approval signing secret is shorter than 32 characters")
            self._key = value.encode()
        return self._key
