from django.http import HttpResponse, JsonResponse
from django.urls import path

from telemed.urls import handler500  # noqa: F401
from telemed.urls import urlpatterns as site_urlpatterns


def bare(request):
    """The least a Django view can do: the baseline for the framework and server overhead."""
    return HttpResponse(b"ok", content_type="text/plain")


def bare_json(request):
    """The least a Django JSON view can do."""
    return JsonResponse({"slots": []})


urlpatterns = [path("bench/bare", bare), path("bench/bare.json", bare_json), *site_urlpatterns]
