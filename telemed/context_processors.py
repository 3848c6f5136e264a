import re

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# The main navigation, in order: (URL name, label).
NAVIGATION = (
    ("education:learn", _("Learn")),
    ("education:conditions", _("Conditions")),
    ("screening:start", _("Screening")),
    ("booking:start", _("Book")),
    ("education:faq", _("FAQ")),
    ("portal:home", _("My appointments")),
)


def clinic(request):
    """The clinic's name and contact details, shown in every page's header and footer."""
    return {
        "clinic": {
            "name": settings.CLINIC_NAME,
            "phone": settings.CLINIC_PHONE,
            "phone_href": "tel:" + re.sub(r"[^0-9+]", "", settings.CLINIC_PHONE),
            "address": settings.CLINIC_ADDRESS,
            "site_url": settings.SITE_URL,
        }
    }


def navigation(request):
    """Main navigation links; the section holding the current page is marked as current."""
    items = []
    for url_name, label in NAVIGATION:
        url = reverse(url_name)
        items.append({"url": url, "label": label, "current": request.path.startswith(url)})
    return {"navigation": items}
