from django import forms
from django.utils.translation import gettext_lazy as _

from telemed.forms import EmbeddedForm


class LinkRequestForm(EmbeddedForm):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("The address you gave when you booked."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Please enter your e-mail address."),
            "invalid": _("Please enter an e-mail address such as name@example.com."),
            "max_length": _("That is longer than any e-mail address we hold (254 characters at most)."),
            "null_characters_not_allowed": _("Please enter an e-mail address such as name@example.com."),
        },
    )
