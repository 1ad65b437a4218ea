"""Security Hub write-back: notes and workflow status on the findings an incident came from."""

from __future__ import annotations

from typing import Any

from responder.models.finding import SecurityHubRef, SecurityHubV2Ref

UPDATED_BY = "containment-responder"
MAX_NOTE = 512  # BatchUpdateFindings: Note.Text is at most 512 characters
MAX_FINDINGS = 100  # BatchUpdateFindings(V2): at most 100 findings per call


class WriteBackError(RuntimeError):
    """Security Hub did not take the update (unprocessed findings, or the call failed)."""


class FindingsWriter:
    def __init__(self, securityhub: Any) -> None:
        self.securityhub = securityhub

    def update(self, refs: list[SecurityHubRef], note: str, workflow_status: str | None) -> None:
        for start in range(0, len(refs), MAX_FINDINGS):
            batch = refs[start : start + MAX_FINDINGS]
            params: dict[str, Any] = {
                "FindingIdentifiers": [{"Id": r.finding_arn, "ProductArn": r.product_arn} for r in batch],
                "Note": {"Text": note[:MAX_NOTE], "UpdatedBy": UPDATED_BY},
            }
            if workflow_status is not None:
                params["Workflow"] = {"Status": workflow_status}
            _raise_unprocessed(self.securityhub.batch_update_findings(**params))

    def update_v2(self, refs: list[SecurityHubV2Ref], comment: str, status_id: int | None) -> None:
        """BatchUpdateFindingsV2: a comment (at most 512 characters) and, where asked, the OCSF status id.
        It takes the same IAM action as BatchUpdateFindings (securityhub:BatchUpdateFindings)."""
        for start in range(0, len(refs), MAX_FINDINGS):
            batch = refs[start : start + MAX_FINDINGS]
            params: dict[str, Any] = {
                "FindingIdentifiers": [
                    {
                        "CloudAccountUid": r.cloud_account_uid,
                        "FindingInfoUid": r.finding_info_uid,
                        "MetadataProductUid": r.metadata_product_uid,
                    }
                    for r in batch
                ],
                "Comment": comment[:MAX_NOTE],
            }
            if status_id is not None:
                params["StatusId"] = status_id
            _raise_unprocessed(self.securityhub.batch_update_findings_v2(**params))


def _raise_unprocessed(resp: dict[str, Any]) -> None:
    unprocessed = resp.get("UnprocessedFindings", [])
    if unprocessed:
        codes = sorted({str(u.get("ErrorCode", "?")) for u in unprocessed})
        raise WriteBackError(f"{len(unprocessed)} finding(s) not updated: {', '.join(codes)}")
