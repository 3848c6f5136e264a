from django.contrib import admin
from django.urls import include, path

from telemed import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("crisis/", views.CrisisView.as_view(), name="crisis"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("education.urls")),
    path("screening/", include("screening.urls")),
    path("book/", include("booking.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "telemed.views.server_error"

admin.site.site_header = admin.site.site_title = "Clinic staff"
admin.site.index_title = "Appointments, schedules and screenings"
