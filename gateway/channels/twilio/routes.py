"""Attach every Twilio route module to the blueprint (imported for side effects)."""

from gateway.channels.twilio import sms, status, voice  # noqa: F401
