from django.urls import path

from education import views

app_name = "education"

urlpatterns = [
    path("learn/", views.learn_index, name="learn"),
    path("learn/<slug:slug>/", views.article_detail, name="article"),
    path("conditions/", views.condition_list, name="conditions"),
    path("conditions/<slug:slug>/", views.condition_detail, name="condition"),
    path("faq/", views.faq, name="faq"),
]
