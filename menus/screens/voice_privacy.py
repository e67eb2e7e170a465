"""What a voice call may say: a caller id is only a claim, so voice says less until proven.

USSD identity comes from the mobile network (the SIM); a voice caller id can be forged. So
over voice a sensitive department is never named, and a booking's T-code is read (or the
booking cancelled) only once the caller has proven the phone for this call (a one-time code
sent to it by SMS) or that booking (its T-code).
"""

from __future__ import annotations

from menus.context import Context

VOICE = "ivr"
# session.chosen keys: the phone proven for the rest of the call; a booking proven by T-code;
# the screen the caller goes on to once the SMS code has proven the phone.
PROOF, PROOF_PHONE, PROVEN_REF, AFTER_PROOF = "proof", "phone", "proven_ref", "after_proof"


def on_voice(ctx: Context) -> bool:
    return ctx.config.channel == VOICE


def department_said(ctx: Context, name: str, sensitive: bool) -> str:
    """Return the department as this channel may name it ("your clinic" when sensitive)."""
    return ctx.t("mine.clinic") if sensitive and on_voice(ctx) else name


def proven(ctx: Context, ref: str) -> bool:
    """Whether the caller may hear booking `ref`'s T-code and change it."""
    chosen = ctx.session.chosen
    return not on_voice(ctx) or chosen.get(PROOF) == PROOF_PHONE or chosen.get(PROVEN_REF) == ref


def phone_proven(ctx: Context) -> bool:
    """Whether the caller may act for the phone itself (not one booking): USSD, or a voice
    caller who keyed the SMS code."""
    return not on_voice(ctx) or ctx.session.chosen.get(PROOF) == PROOF_PHONE
