from django.urls import path

from screening import views
from telemed import converters  # noqa: F401 - registers <token:…>

app_name = "screening"

urlpatterns = [
    path("", views.start, name="start"),
    path("step/<slug:slug>/", views.step, name="step"),
    path("support/", views.support, name="support"),
    path("review/", views.review, name="review"),
    path("result/<token:token>/", views.result, name="result"),
]
