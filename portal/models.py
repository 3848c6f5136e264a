"""The patient's sign-in links to the portal (/my/)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInLink(models.Model):
    """One request for a sign-in link, known address or not.

    Every request makes a row, so that asking for an unknown address does the same work as a
    known one (no enumeration by timing); a row without a patient is never e-mailed. The token
    itself is drawn by the task that sends it and never stored: only its SHA-256 is, set when the
    e-mail goes out. Single use (`used_at`), valid until `expires_at`."""

    patient = models.ForeignKey(
        "booking.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="sign_in_links"
    )
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in link")
        constraints = [
            models.UniqueConstraint(
                fields=["token_hash"], condition=~models.Q(token_hash=""), name="sign_in_hash_unique"
            )
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"Sign-in link #{self.pk}"
