"""A visit's statuses, declared once: the Appointment model labels them, and the pure reminder
timing (reminders/timing.py) decides with them."""

CONFIRMED, CANCELLED, COMPLETED, NO_SHOW = "confirmed", "cancelled", "completed", "no_show"
