from django.urls import path

from booking import views
from telemed import converters  # noqa: F401 - registers <token:…>
from treatment import check_in

app_name = "booking"

urlpatterns = [
    path("book/", views.choose_type, name="start"),
    path("book/<slug:slug>/", views.pick_time, name="pick"),
    path("book/<slug:slug>/details/", views.details, name="details"),
    path("book/<slug:slug>/confirm/", views.confirm, name="confirm"),
    path("book/<slug:slug>/series/", views.series_start, name="series"),
    path("book/<slug:slug>/series/session/<int:number>/", views.series_change, name="series_change"),
    path("book/<slug:slug>/series/review/", views.series_review, name="series_review"),
    path("book/<slug:slug>/series/booked/", views.series_booked, name="series_booked"),
    path("appointments/<token:token>/", views.manage, name="manage"),
    path("appointments/<token:token>/reschedule/", views.reschedule, name="reschedule"),
    path("appointments/<token:token>/cancel/", views.cancel, name="cancel"),
    path("appointments/<token:token>/ride/", views.ride_home, name="ride"),
    path("appointments/<token:token>/check-in/", check_in.check_in, name="check_in"),
    path("appointments/<token:token>/book-again/", views.book_again, name="book_again"),
    path("appointments/<token:token>/calendar.ics", views.calendar_ics, name="calendar"),
]
