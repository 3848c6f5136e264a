from django.urls import path

from booking import views
from telemed import converters  # noqa: F401 - registers <token:…>

app_name = "booking"

urlpatterns = [
    path("book/", views.choose_type, name="start"),
    path("book/<slug:slug>/", views.pick_time, name="pick"),
    path("book/<slug:slug>/details/", views.details, name="details"),
    path("book/<slug:slug>/confirm/", views.confirm, name="confirm"),
    path("appointments/<token:token>/", views.manage, name="manage"),
    path("appointments/<token:token>/reschedule/", views.reschedule, name="reschedule"),
    path("appointments/<token:token>/cancel/", views.cancel, name="cancel"),
    path("appointments/<token:token>/ride/", views.ride_home, name="ride"),
    path("appointments/<token:token>/book-again/", views.book_again, name="book_again"),
    path("appointments/<token:token>/calendar.ics", views.calendar_ics, name="calendar"),
]
