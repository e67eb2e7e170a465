"""The right of access and erasure, and retention: passes over everything the core holds about a person."""
