"""My appointments: list, details with the T-code, cancel with a yes."""

from __future__ import annotations

from tests.menus.conftest import CALLER, DIAL, Phone
from tests.menus.fake_port import FakePort

BOOK_0930 = [(DIAL, [], False), ("1", [], False), ("1", [], False), ("1", [], False),
             ("1", [], False), ("1", [], False), ("1", ["Booked!"], True)]  # fmt: skip


def test_list_details_cancel(phone: Phone, port: FakePort) -> None:
    phone.run(BOOK_0930)

    phone.run(
        [
            (DIAL, ["2 My appointments"], False),
            ("2", ["Your appointments", "1 24 Nov 09:30 Cardiology", "0 Back"], False),
            ("1", ["Cardiology", "Kenyatta National Hospital", "Tue 24 Nov 09:30"], False),
            ("1", ["Cancel Cardiology on Tue 24 Nov 09:30?", "1 Yes, cancel", "0 Back"], False),
            ("1", ["Cancelled.", "Cardiology, Tue 24 Nov 09:30"], True),
        ]
    )
    assert ("cancel", (CALLER, "B1")) in port.calls
    assert port.bookings["B1"][1].status == "cancelled"


def test_details_show_the_grouped_tcode(phone: Phone) -> None:
    phone.run(BOOK_0930)
    phone.run(
        [(DIAL, [], False), ("2", [], False), ("1", ["T-code: 482 913 5575", "1 Cancel"], False)]
    )


def test_no_on_the_cancel_question_goes_back(phone: Phone, port: FakePort) -> None:
    phone.run(BOOK_0930)
    phone.run(
        [
            (DIAL, [], False),
            ("2", [], False),
            ("1", [], False),
            ("1", ["1 Yes, cancel"], False),
            ("0", ["T-code: 482 913 5575", "1 Cancel"], False),
        ]
    )
    assert not [call for call in port.calls if call[0] == "cancel"]


def test_empty_list_is_polite_and_leads_back(phone: Phone) -> None:
    phone.run(
        [
            (DIAL, [], False),
            ("2", ["You have no upcoming appointments.", "0 Back", "00 Home"], False),
            ("1", ["Invalid choice"], False),
            ("0", ["Hospital appointments"], False),
        ]
    )


def test_refused_cancel_returns_to_the_fresh_list(phone: Phone, port: FakePort) -> None:
    phone.run(BOOK_0930)
    port.refuse("cancel", "deadline_passed", deadline=port.now)

    phone.run(
        [
            (DIAL, [], False),
            ("2", [], False),
            ("1", [], False),
            ("1", [], False),
            (
                "1",
                ["Too late to cancel (deadline Mon 23 Nov 08:00).", "1 24 Nov 09:30 Cardiology"],
                False,
            ),
        ]
    )


def test_booking_cancelled_elsewhere_meanwhile(phone: Phone, port: FakePort) -> None:
    phone.run(BOOK_0930)
    phone.run([(DIAL, [], False), ("2", [], False), ("1", ["1 Cancel"], False)])
    port.cancel(CALLER, "B1")  # by SMS, while the USSD screen is open

    phone.run([("1", ["Sorry, we could not find that.", "You have no upcoming"], False)])
