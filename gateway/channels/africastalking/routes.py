"""Attach every Africa's Talking route module to the blueprint (imported for side effects)."""

from gateway.channels.africastalking import dlr, sms, ussd, voice  # noqa: F401
