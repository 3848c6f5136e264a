from django.urls import path

from booking import views

app_name = "booking"

urlpatterns = [
    path("book/", views.choose_type, name="start"),
    path("book/<slug:slug>/", views.pick_time, name="pick"),
    path("book/<slug:slug>/details/", views.details, name="details"),
    path("book/<slug:slug>/confirm/", views.confirm, name="confirm"),
    path("appointments/<str:token>/", views.manage, name="manage"),
    path("appointments/<str:token>/reschedule/", views.reschedule, name="reschedule"),
    path("appointments/<str:token>/cancel/", views.cancel, name="cancel"),
    path("appointments/<str:token>/ride/", views.ride_home, name="ride"),
    path("appointments/<str:token>/book-again/", views.book_again, name="book_again"),
    path("appointments/<str:token>/calendar.ics", views.calendar_ics, name="calendar"),
]
