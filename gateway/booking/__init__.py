"""The booking core: registries, slots, holds, bookings, vouchers, check-in and the outbox.

Layers (import-linter keeps the order; a layer imports only those below it):

    service.py    the façade every channel calls: one short method, one transaction, per operation
    privacy/      passes over everything held about one person: export, erase, retention
    operations/   one module per use case, all on the row primitives of sql/ (no ORM)
    views/        read models: what the menus, the desk and the voucher page show
    catalogue/    the hospital registry file, its per-process cache, slot generation
    sql/          row-level primitives: Core statements, guards built from the lifecycles, the driver
    models.py     the tables
    domain/       pure: states and their transitions, event constructors, rules, errors

Glossary (one name per concept; other packages use some of these words for other things):

    citizen       a row per phone holder, created on first contact and locked first in every
                  operation that changes its bookings (check-in locks no citizen: its guarded
                  UPDATEs decide). `domain.persons.Person` is what the rules read of one;
                  `sql.naming.NamedPerson` how the privacy passes name one (phone + ids).
    slot          one appointment time of a department; `remote_capacity` of its places are
                  for phone booking, `remote_taken` counts the ones claimed.
    place         one unit of a slot's remote capacity, taken by a hold or a booking
                  (`sql.capacity.claim`: "claim" here means taking a place).
    hold          a time-limited hold on one place, one live hold per phone (HoldState).
    booking       a confirmed place for a citizen, by reference `ref` (BookingStatus).
    claim         a voice booking the phone's owner has not yet confirmed (`unconfirmed`,
                  `operations/claims.py`). Elsewhere the word is only a verb: taking a place
                  (above), or `gateway.messaging.claims`, a sender's lease on a message.
    voucher       the T-code + signed QR of a booking (VoucherState); the booking's *current*
                  voucher is its live one (issued or used), else its latest.
    T-code        the voucher's 10-digit code; `voucher.ref` is the unguessable link id.
    invitation    staff offer a slot, or a window of days to pick one (InvitationStatus).
    clinic session  a department's day of slots; `operations/close_session.py` closes one.
                  (Not a USSD session: that is `menus.session`; not an SQLAlchemy Session.)
    catalogue     the hospital registry: cities, hospitals, departments, schedules.
                  (The menus' translated texts are `menus/catalogues/`, a different thing.)
    day list      what the hospital desk reads (`views/day_list.py`); the kiosk's port is
                  `gateway/kiosk_desk.py`.
    event         one outbox row written in the same transaction as the change it announces,
                  built by exactly one constructor in `domain/events.py`.
    block         a citizen may not book until a date (no-shows or cancellations).
"""
