"""Security Hub write-back from the handlers that change an incident's state. A failure is logged and
counted, and never fails the step: containment does not wait on Security Hub."""

from __future__ import annotations

from collections.abc import Callable

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
        writer = self._writer
        calls: list[tuple[str, Callable[[], None]]] = []
        if update.refs:
            calls.append(("asff", lambda: writer.update(update.refs, update.note, update.workflow_status)))
        if update.refs_v2:
            calls.append(("v2", lambda: writer.update_v2(update.refs_v2, update.note, update.status_id)))
        for kind, call in calls:  # each format on its own: one failing never keeps the other from its note
            try:
                call()
            except (ClientError, BotoCoreError, WriteBackError) as exc:
                count("SecurityHubWriteBackFailures")
                logger.warning("security hub write-back failed", extra={"format": kind, "error": str(exc)[:500]})
                continue
            count("SecurityHubWriteBacks")
            logger.info("security hub updated", extra={"format": kind, "workflow_status": update.workflow_status})


WRITE_BACK = SecurityHubWriteBack()
