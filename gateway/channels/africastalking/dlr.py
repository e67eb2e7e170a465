"""POST /hooks/at/dlr: Africa's Talking's delivery-reports callback.

Form fields `id`, `status`, `phoneNumber`, `networkCode`, `failureReason`, `retryCount`.
A report we cannot read is a 400 (AT shows it in its callback log): an unknown status, or an
id we could not store (hook_values.py). A well-formed one is a 200 even when its message is not
known yet — it is kept and applied when the id is recorded. While the database is away or
hangs past the hop deadline the answer is 503, so AT sends the report again; a report that
failed for any other reason is logged under a short ref and answered 200, because a retry
would fail the same way.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request
from sqlalchemy.exc import OperationalError

from gateway.channels.africastalking import bp
from gateway.messaging import statuses
from gateway.messaging.failures import describe
from gateway.messaging.hook_values import BAD_ID, clean_form, valid_id
from gateway.messaging.inbound import failure_ref
from gateway.messaging.reports import Report, record_report
from gateway.web.hops import HopUnavailable, bounded

PROVIDER = "africastalking"
log = logging.getLogger(__name__)

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
    form = clean_form(request.form)
    message_id, status = request.form.get("id", "").strip(), form.get("status", "").strip()
    if not valid_id(message_id):
        return _text(BAD_ID), 400
    if status not in STATUS_MAPPING:
        return _text("unknown or missing id/status"), 400
    reason = form.get("failureReason", "").strip()
    report = Report(
        provider=PROVIDER,
        provider_message_id=message_id,
        status=STATUS_MAPPING[status],
        provider_status=status,
        detail=reason,
        opt_out=reason in OPT_OUT_REASONS,
        raw=form,
    )
    runtime = current_app.extensions["ors"]
    try:
        bounded("report", lambda: record_report(runtime, report))
    except HopUnavailable:  # the database hangs: the provider sends the report again
        return _text("busy, please retry"), 503
    except OperationalError as exc:  # the database is away: worth the provider's retry
        log.warning("delivery report not recorded, asked again: %s", describe(exc))
        return _text("busy, please retry"), 503
    except Exception as exc:  # bad data: a retry would fail the same way
        log.error(
            "delivery report not recorded (ref %s): %s", failure_ref(), describe(exc), exc_info=exc
        )
    return _text("OK"), 200


def _text(body: str) -> Response:
    return Response(body, mimetype="text/plain")
