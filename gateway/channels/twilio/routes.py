"""Attach every Twilio route module to the blueprint (imported for side effects)."""
