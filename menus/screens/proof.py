"""Voice only: the caller proves the phone before a T-code is read or a booking cancelled.

Two ways (offered on the booking's details): key the one-time code we send by SMS to the
number the call comes from (proves the phone for the rest of the call), or key the booking's
T-code (proves that booking only). Wrong answers are allowed `proof_tries` times per call,
then the call ends politely; the core also spends a code after its own tries or expiry.
"""

from __future__ import annotations

import hmac

from menus.context import Context
from menus.flow import Finish, Go, Screen, View
from menus.screens.appointments import chosen_booking
from menus.screens.voice_privacy import AFTER_PROOF, PROOF, PROOF_PHONE, PROVEN_REF

CODE_DIGITS = 4
FAILED = "proof_failed"  # the closing screen after too many wrong answers
_TCODE_TRIES = "tcode_tries"  # session.chosen: wrong T-codes so far in this call


def _show_code(ctx: Context) -> View:
    # The SMS takes a moment: silence here re-prompts for a while instead of ending the call.
    return View((ctx.t("proof.code"),), input_kind="digits", waits=ctx.config.proof_wait_seconds)


def _act_code(ctx: Context, digits: str) -> Go | Finish:
    if len(digits) != CODE_DIGITS:  # not a guess at the code: costs no try
        return Go("code", notice=ctx.t("proof.code_wrong"))
    outcome = ctx.port.check_code(ctx.phone, digits)
    if outcome == "passed":
        ctx.session.chosen[PROOF] = PROOF_PHONE
        return Go(ctx.session.chosen.pop(AFTER_PROOF, "appointment"))
    if outcome == "wrong":
        return Go("code", notice=ctx.t("proof.code_wrong"))
    return _failed(ctx)


def _show_tcode(ctx: Context) -> View:
    return View((ctx.t("proof.tcode"),), input_kind="digits")


def _act_tcode(ctx: Context, digits: str) -> Go | Finish:
    booking = chosen_booking(ctx)
    if booking.tcode and hmac.compare_digest(digits.encode(), booking.tcode.encode()):
        ctx.session.chosen[PROVEN_REF] = booking.ref
        return Go("appointment")
    wrong = int(ctx.session.chosen.get(_TCODE_TRIES, "0")) + 1
    ctx.session.chosen[_TCODE_TRIES] = str(wrong)
    if wrong >= ctx.config.proof_tries:
        return _failed(ctx)
    return Go("tcode", notice=ctx.t("proof.tcode_wrong"))


def _failed(ctx: Context) -> Finish:
    return Finish(FAILED, (ctx.t("proof.failed"),))


SCREENS = (
    Screen(
        "code",
        _show_code,
        _act_code,
        leads_to=frozenset({"code", "appointment", "invitation_day", "register", FAILED}),
        refusal_default="appointments",
    ),
    Screen(
        "tcode",
        _show_tcode,
        _act_tcode,
        leads_to=frozenset({"tcode", "appointment", FAILED}),
        refusal_default="appointments",
    ),
)
