"""POST /hooks/at/dlr: Africa's Talking delivery reports (channels.md §3.4).

Form fields `id`, `status`, `phoneNumber`, `networkCode`, `failureReason`, `retryCount`.
A report we cannot read is a 400 (AT shows it in its callback log); a well-formed one is a
200 even when its message is not known yet — it is kept and applied when the id is recorded.
"""

from __future__ import annotations

from flask import Response, current_app, request

from gateway.channels.africastalking import bp
from gateway.messaging import statuses
from gateway.messaging.reports import Report, record_report

PROVIDER = "africastalking"

# Every AT delivery status -> ours. Statuses only move forward (gateway.messaging.statuses).
STATUS_MAPPING: dict[str, str] = {
    "Sent": statuses.SENT,  # sent by AT's network
    "Submitted": statuses.SENT,  # handed to the mobile operator
    "Buffered": statuses.SENT,  # queued by the operator
    "Success": statuses.DELIVERED,  # on the handset
    "Rejected": statuses.FAILED,
    "Failed": statuses.FAILED,
    "AbsentSubscriber": statuses.UNDELIVERED,  # SIM unreachable until it expired
    "Expired": statuses.UNDELIVERED,  # discarded by the operator or a firewall
}
OPT_OUT_REASONS = frozenset({"UserInBlackList", "UserInBlacklist"})


@bp.post("/dlr")
def delivery_report() -> tuple[Response | str, int]:
    form = request.form
    message_id, status = form.get("id", "").strip(), form.get("status", "").strip()
    if not message_id or status not in STATUS_MAPPING:
        return _text("unknown or missing id/status"), 400
    reason = form.get("failureReason", "").strip()
    report = Report(
        provider=PROVIDER,
        provider_message_id=message_id,
        status=STATUS_MAPPING[status],
        provider_status=status,
        detail=reason,
        opt_out=reason in OPT_OUT_REASONS,
        raw=form.to_dict(),
    )
    record_report(current_app.extensions["ors"], report)
    return _text("OK"), 200


def _text(body: str) -> Response:
    return Response(body, mimetype="text/plain")
