"""The one flow of the phone menus, shared by every channel.

Real-name registration (menus.screens.registration) takes over from the booking screens when
the core refuses a hold `registration_required`; its ID and birth-year entries use the
"digits" input kind, its name entry the "text" kind voice never asks for.
"""

from __future__ import annotations

from menus.flow import Flow
from menus.screens import (
    appointments,
    booking,
    home,
    invitations,
    persons,
    proof,
    registration,
)

# Closing screens built by actions rather than shown from the table.
FINISHES = ("booked", "cancelled", proof.FAILED)
# Screens only a voice call reaches (USSD callers are the phone's owner: nothing to prove).
VOICE_ONLY = frozenset(
    {*(screen.name for screen in proof.SCREENS), proof.FAILED, registration.DESK}
)
# Screens that only decide where to go (they always skip or redirect): never rendered.
PASSING = frozenset({booking.REGISTER})


def build_flow() -> Flow:
    """Return the checked screen table, starting with the resume question."""
    screens = (
        *home.SCREENS,
        *persons.SCREENS,
        *booking.SCREENS,
        *appointments.SCREENS,
        *invitations.SCREENS,
        *proof.SCREENS,
        *registration.SCREENS,
    )
    return Flow(screens, FINISHES, start="resume", main="main")
