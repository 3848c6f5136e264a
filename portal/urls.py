from django.urls import path

from portal import views
from telemed import converters  # noqa: F401 - registers <token:…>

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("book/", views.book, name="book"),
    path("visits/<int:pk>/cancel/", views.visit_cancel, name="cancel"),
    # Last: a token is any 16 to 64 URL-safe characters. Under /my/<token>/, which the logs redact.
    path("<token:token>/", views.sign_in, name="sign_in"),
]
