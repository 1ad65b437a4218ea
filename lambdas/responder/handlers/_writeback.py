"""Security Hub write-back from the handlers that change an incident's state. A failure is logged and
counted, and never fails the step: containment does not wait on Security Hub."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from responder.adapters.aws import client
from responder.adapters.securityhub import FindingsWriter, WriteBackError
from responder.domain.writeback import write_back_for
from responder.handlers._runtime import count, logger
from responder.models.incident import Incident


class SecurityHubWriteBack:
    def __init__(self) -> None:
        self._writer: FindingsWriter | None = None

    def __call__(self, incident: Incident) -> None:
        update = write_back_for(incident)
        if update is None:
            return
        if self._writer is None:
            self._writer = FindingsWriter(client("securityhub"))
        try:
            self._writer.update(update.refs, update.note, update.workflow_status)
        except (ClientError, BotoCoreError, WriteBackError) as exc:
            count("SecurityHubWriteBackFailures")
            logger.warning("security hub write-back failed", extra={"error": str(exc)[:500]})
            return
        count("SecurityHubWriteBacks")
        logger.info("security hub updated", extra={"workflow_status": update.workflow_status})


WRITE_BACK = SecurityHubWriteBack()
