from django.conf import settings
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from booking.models import Clinician
from telemed.context_processors import clinic, navigation
from telemed.health import is_healthy, service_checks
from telemed.outcomes import OUTCOMES


class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        # One query, whatever the size of the team; only the public fields (never e-mail or hours).
        return super().get_context_data(care_team=list(Clinician.objects.on_site()), outcomes=OUTCOMES, **kwargs)


class CrisisView(TemplateView):
    template_name = "crisis.html"


@never_cache
@require_safe
def healthz(request):
    checks = service_checks()
    healthy = is_healthy(checks)
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)


@require_safe
def robots_txt(request):
    """Search engines may read the public pages; personal pages (tokens) and the admin are off limits."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /appointments/",
        "Disallow: /screening/result/",
        "Disallow: /my/",
        f"Sitemap: {settings.SITE_URL}/sitemap.xml",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def server_error(request):
    """500 page with the clinic's contact and crisis numbers; uses settings only, never the database."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({**clinic(request), **navigation(request)}))


def rate_limited(request, *, kept: bool = False):
    """Too many tries from one address or for one e-mail (telemed/limits.py): a calm page with
    the clinic's phone and the crisis line, never a dead end. `kept`: what they typed is saved."""
    response = render(request, "429.html", {"kept": kept}, status=429)
    response["Retry-After"] = "3600"
    return response
