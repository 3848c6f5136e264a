from django.urls import path

from screening import views

app_name = "screening"

urlpatterns = [
    path("", views.start, name="start"),
    path("step/<slug:slug>/", views.step, name="step"),
    path("support/", views.support, name="support"),
    path("review/", views.review, name="review"),
    path("result/<str:token>/", views.result, name="result"),
]
