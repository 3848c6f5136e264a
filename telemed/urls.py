from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.decorators.cache import cache_page

from booking import api as booking_api
from education.sitemaps import SITEMAPS
from telemed import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("crisis/", views.CrisisView.as_view(), name="crisis"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("sitemap.xml", cache_page(60 * 60)(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("", include("education.urls")),
    path("screening/", include("screening.urls")),
    path("", include("booking.urls")),
    path("my/", include("portal.urls")),
    path("api/slots", booking_api.api_slots, name="api-slots"),
    path("admin/", admin.site.urls),
]

handler500 = "telemed.views.server_error"
