from tests.booking.conftest import frozen_now  # noqa: F401 - the booking tests' clock, for visits booked here
