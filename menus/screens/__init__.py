"""The one flow of the phone menus, shared by every channel.

Real-name registration (a later issue) adds its screens to this table and takes over the
`registration_required` entry of `booking.AFTER_BOOKING_REFUSAL`; its ID-number entry uses the
"digits" input kind that replies and keypads already support.
"""

from __future__ import annotations

from menus.flow import Flow
from menus.screens import appointments, booking, home, invitations, persons, proof

# Closing screens built by actions rather than shown from the table.
FINISHES = ("booked", "cancelled", proof.FAILED)
# Screens only a voice call reaches (USSD callers are the phone's owner: nothing to prove).
VOICE_ONLY = frozenset({*(screen.name for screen in proof.SCREENS), proof.FAILED})


def build_flow() -> Flow:
    """Return the checked screen table, starting with the resume question."""
    screens = (
        *home.SCREENS,
        *persons.SCREENS,
        *booking.SCREENS,
        *appointments.SCREENS,
        *invitations.SCREENS,
        *proof.SCREENS,
    )
    return Flow(screens, FINISHES, start="resume", main="main")
