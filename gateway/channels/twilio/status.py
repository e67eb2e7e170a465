"""POST /hooks/twilio/status: Twilio message status callbacks (channels.md §5.4).

The blueprint has already checked X-Twilio-Signature. Form fields `MessageSid`,
`MessageStatus` (legacy duplicates `SmsSid`/`SmsStatus`), `ErrorCode` on failures.
"""

from __future__ import annotations

from flask import Response, current_app, request

from gateway.channels.twilio import bp
from gateway.messaging import statuses
from gateway.messaging.reports import Report, record_report

PROVIDER = "twilio"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

# Every Twilio MessageStatus -> ours (None: says nothing about an outbound message's delivery).
STATUS_MAPPING: dict[str, str | None] = {
    "accepted": statuses.SENT,  # a Messaging Service took it
    "scheduled": statuses.SENT,
    "queued": statuses.SENT,  # Twilio has it and will send it
    "sending": statuses.SENT,
    "sent": statuses.SENT,  # handed to the carrier
    "partially_delivered": statuses.SENT,  # some parts arrived; the final status follows
    "delivered": statuses.DELIVERED,
    "read": statuses.DELIVERED,  # read implies delivered
    "undelivered": statuses.UNDELIVERED,
    "failed": statuses.FAILED,
    "canceled": statuses.FAILED,  # a scheduled message that was never sent
    "receiving": None,  # inbound statuses: not about a message we sent
    "received": None,
}
OPT_OUT_CODES = frozenset({"21610"})  # the recipient replied STOP


@bp.post("/status")
def message_status() -> tuple[Response, int]:
    form = request.form
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip()
    if not sid or status not in STATUS_MAPPING:
        return _twiml(), 400
    code = form.get("ErrorCode", "").strip()
    report = Report(
        provider=PROVIDER,
        provider_message_id=sid,
        status=STATUS_MAPPING[status],
        provider_status=status,
        detail=f"Twilio error {code}" if code else "",
        opt_out=code in OPT_OUT_CODES,
        raw=form.to_dict(),
    )
    record_report(current_app.extensions["ors"], report)
    return _twiml(), 200


def _twiml() -> Response:
    return Response(EMPTY_TWIML, mimetype="text/xml")
