"""POST /hooks/twilio/status: Twilio's message status callbacks (StatusCallback).

The blueprint has already checked X-Twilio-Signature. Form fields `MessageSid`,
`MessageStatus` (legacy duplicates `SmsSid`/`SmsStatus`), `ErrorCode` on failures.
An unknown status, or a sid we could not store (hook_values.py), is a 400. While the database
is away or hangs past the hop deadline the answer is 503, so Twilio sends the report again; a
report that failed for any other reason is logged under a short ref and answered 200, because
a retry would fail the same way.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request
from sqlalchemy.exc import OperationalError

from gateway.channels.twilio import bp
from gateway.messaging import statuses
from gateway.messaging.failures import describe
from gateway.messaging.hook_values import clean_form, valid_id
from gateway.messaging.inbound import failure_ref
from gateway.messaging.reports import Report, record_report
from gateway.web.hops import HopUnavailable, bounded

PROVIDER = "twilio"
log = logging.getLogger(__name__)
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
    form = clean_form(request.form)
    sid = (request.form.get("MessageSid") or request.form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip()
    if not valid_id(sid) or status not in STATUS_MAPPING:
        return _twiml(), 400
    code = form.get("ErrorCode", "").strip()
    report = Report(
        provider=PROVIDER,
        provider_message_id=sid,
        status=STATUS_MAPPING[status],
        provider_status=status,
        detail=f"Twilio error {code}" if code else "",
        opt_out=code in OPT_OUT_CODES,
        raw=form,
    )
    runtime = current_app.extensions["ors"]
    try:
        bounded("report", lambda: record_report(runtime, report))
    except HopUnavailable:  # the database hangs: the provider sends the report again
        return _twiml(), 503
    except OperationalError as exc:  # the database is away: worth the provider's retry
        log.warning("status callback not recorded, asked again: %s", describe(exc))
        return _twiml(), 503
    except Exception as exc:  # bad data: a retry would fail the same way
        log.error(
            "status callback not recorded (ref %s): %s", failure_ref(), describe(exc), exc_info=exc
        )
    return _twiml(), 200


def _twiml() -> Response:
    return Response(EMPTY_TWIML, mimetype="text/xml")
