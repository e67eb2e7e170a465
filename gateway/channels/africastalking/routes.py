"""Attach every Africa's Talking route module to the blueprint (imported for side effects)."""
