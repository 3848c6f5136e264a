from tests.booking.conftest import frozen_now, screened_client  # noqa: F401 - the booking tests' clock and browser
