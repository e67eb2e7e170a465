"""The booking core: registries, slots, holds, bookings, vouchers, check-in and the outbox."""
