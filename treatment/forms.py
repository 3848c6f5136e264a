"""The chart screen's forms, one per section. They parse what staff typed (times in the clinic's
zone on the visit's day, numbers in ASCII digits) and give the browser its limits; the services
(treatment/services.py) validate again and have the last word, their errors shown on the fields."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from treatment import rules
from treatment.models import AdverseEvent, Route

YES_NO = [("", _("Not asked yet")), ("yes", _("Yes")), ("no", _("No"))]
TIME_HELP = _("Clinic time (%(zone)s).")
FIRST_YEAR, LAST_YEAR = 2000, 2099
TIME_INVALID = _("Enter the time as hours and minutes, for example 09:40 (or 21:40 for 9:40 PM).")


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


class ClinicTimeField(forms.TimeField):
    """A time on the visit's day in the clinic's zone (HH:MM), cleaned to an aware datetime."""

    widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", ["%H:%M", "%H:%M:%S"])
        kwargs.setdefault("error_messages", {"invalid": TIME_INVALID})
        super().__init__(*args, **kwargs)
        self.help_text = TIME_HELP % {"zone": settings.CLINIC_TIME_ZONE}


class ClinicDateTimeField(forms.DateTimeField):
    """A date and time in the clinic's zone (a datetime-local input), cleaned to an aware datetime."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
        kwargs.setdefault("error_messages", {"invalid": _("Enter the date and time, for example 2026-12-08 06:30.")})
        super().__init__(*args, **kwargs)
        self.help_text = _("Clinic time (%(zone)s).") % {"zone": settings.CLINIC_TIME_ZONE}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        for pattern in self.input_formats:
            try:
                parsed = datetime.strptime(text[:40], pattern)  # noqa: DTZ007 - given the clinic zone below
            except ValueError:
                continue
            if not FIRST_YEAR <= parsed.year <= LAST_YEAR:  # year 1 or 9999 would overflow in UTC
                break
            return parsed.replace(tzinfo=clinic_zone())
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def prepare_value(self, value):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(clinic_zone()).replace(tzinfo=None)
        return super().prepare_value(value)


class Whole(forms.IntegerField):
    """A whole number in ASCII digits within [low, high], the range in the message."""

    def __init__(self, low: int, high: int, **kwargs):
        message = _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        kwargs.setdefault("required", False)
        super().__init__(
            min_value=low,
            max_value=high,
            error_messages={"invalid": message, "min_value": message, "max_value": message},
            **kwargs,
        )
        self.widget.attrs.update(inputmode="numeric")

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            if value and (len(value) > 12 or not (value.isascii() and value.isdigit())):  # "٣", "1e9", "²"
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class Amount(forms.DecimalField):
    """A positive amount with at most one decimal (dose, weight)."""

    def __init__(self, low, high, unit: str, **kwargs):
        message = _("Enter a number from %(low)s to %(high)s %(unit)s, with at most one decimal.") % {
            "low": low,
            "high": high,
            "unit": unit,
        }
        super().__init__(
            min_value=low,
            max_value=high,
            max_digits=6,
            decimal_places=1,
            required=False,
            error_messages={
                key: message
                for key in ("invalid", "min_value", "max_value", "max_digits", "max_decimal_places", "max_whole_digits")
            },
            **kwargs,
        )
        self.widget.attrs.update(inputmode="decimal", step="0.1")

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            if len(value) > 12 or (value and not value.isascii()):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def as_yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class ChartForm(forms.Form):
    """Each section's form: its fields' ids carry the section's prefix, so that the error
    summary's links reach the right field on a page of several forms."""

    section = ""

    def __init__(self, *args, day: date, **kwargs):
        kwargs.setdefault("prefix", self.section)
        super().__init__(*args, **kwargs)
        self.day = day

    def on_day(self, name: str) -> datetime | None:
        """A ClinicTimeField's time on the visit's day in the clinic's zone."""
        value: time | None = self.cleaned_data.get(name)
        return None if value is None else datetime.combine(self.day, value, tzinfo=clinic_zone())

    def describe_fields(self) -> None:
        """Each input names its help and its error (aria-describedby) and says when it is invalid."""
        for bound in self:
            ids = []
            if bound.errors:
                ids.append(f"{bound.auto_id}-error")
                bound.field.widget.attrs["aria-invalid"] = "true"
            if bound.help_text:
                ids.append(f"{bound.auto_id}-help")
            if ids:
                bound.field.widget.attrs["aria-describedby"] = " ".join(ids)

    def service_errors(self, error: ValidationError) -> None:
        """The service's errors on this form's fields (any other as the form's own)."""
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


def clinic_time_of(value: datetime | None) -> time | None:
    return None if value is None else value.astimezone(clinic_zone()).time().replace(second=0, microsecond=0)


class ChecklistForm(ChartForm):
    section = "checklist"

    fasted_since = ClinicDateTimeField(label=_("No food since"), required=False)
    ride_driver_name = forms.CharField(label=_("Driver's name"), max_length=150, required=False)
    ride_driver_phone = forms.CharField(
        label=_("Driver's phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    ride_alternative = forms.CharField(
        label=_("Or a documented alternative to a ride"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: stays overnight with a relative next door; and who agreed it."),
    )
    takes_benzodiazepines = forms.ChoiceField(label=_("Benzodiazepines"), choices=YES_NO, required=False)
    takes_sedative_hypnotics = forms.ChoiceField(
        label=_("Non-benzodiazepine sedative hypnotics"), choices=YES_NO, required=False
    )
    takes_psychostimulants = forms.ChoiceField(label=_("Psychostimulants"), choices=YES_NO, required=False)
    takes_maois = forms.ChoiceField(label=_("MAOIs"), choices=YES_NO, required=False)
    medicines_note = forms.CharField(
        label=_("Other medicines"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    MEDICINES = ("takes_benzodiazepines", "takes_sedative_hypnotics", "takes_psychostimulants", "takes_maois")

    @classmethod
    def initial_for(cls, record) -> dict:
        values = {name: getattr(record, name) for name in ("fasted_since", "ride_driver_name", "ride_driver_phone")}
        values.update(ride_alternative=record.ride_alternative, medicines_note=record.medicines_note)
        values.update({name: as_yes_no(getattr(record, name)) for name in cls.MEDICINES})
        return values

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        for name in self.MEDICINES:
            data[name] = yes_no(data[name])
        return data


class AdministrationForm(ChartForm):
    section = "administration"

    weight_kg = Amount(*rules.WEIGHT_KG_RANGE, "kg", label=_("Weight (kg)"))
    dose_mg = Amount(Decimal("0.1"), Decimal(1000), "mg", label=_("Dose (mg)"))
    route = forms.ChoiceField(label=_("Route"), choices=[("", "—"), *Route.choices], required=False)
    lot_number = forms.CharField(label=_("Lot number"), max_length=40, required=False)
    first_administration_at = ClinicTimeField(label=_("First administration"), required=False)

    @classmethod
    def initial_for(cls, record, chart_rules: rules.ChartRules) -> dict:
        return {
            "weight_kg": record.weight_kg,
            "dose_mg": record.dose_mg,
            "route": record.route or chart_rules.route,
            "lot_number": record.lot_number,
            "first_administration_at": clinic_time_of(record.first_administration_at),
        }

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["first_administration_at"] = self.on_day("first_administration_at")
        return data


SEDATION_CHOICES = [("", "—"), *((str(k), v) for k, v in sorted(rules.MOAA_S_LABELS.items(), reverse=True))]
DISSOCIATION_CHOICES = [("", "—"), *((str(k), v) for k, v in sorted(rules.DISSOCIATION_LABELS.items()))]


class ObservationForm(ChartForm):
    section = "observation"

    at = ClinicTimeField(label=_("Time"), error_messages={"required": _("Enter the time of the reading.")})
    systolic = Whole(*rules.SYSTOLIC_RANGE, label=_("Systolic (mmHg)"))
    diastolic = Whole(*rules.DIASTOLIC_RANGE, label=_("Diastolic (mmHg)"))
    heart_rate = Whole(*rules.HEART_RATE_RANGE, label=_("Heart rate (/min)"))
    spo2 = Whole(*rules.SPO2_RANGE, label=_("SpO2 (%)"))
    sedation = forms.TypedChoiceField(
        label=_("Sedation (MOAA/S)"), choices=SEDATION_CHOICES, coerce=int, empty_value=None, required=False
    )
    dissociation = forms.TypedChoiceField(
        label=_("Dissociation"), choices=DISSOCIATION_CHOICES, coerce=int, empty_value=None, required=False
    )

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["at"] = self.on_day("at")
        return data


class AdverseEventForm(ChartForm):
    section = "adverse"

    at = ClinicTimeField(label=_("Began at"), error_messages={"required": _("Enter the time the event began.")})
    kind = forms.ChoiceField(
        label=_("Event"),
        choices=[("", "—"), *AdverseEvent.Kind.choices],
        error_messages={"required": _("Choose the kind of event.")},
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=[("", "—"), *AdverseEvent.Severity.choices],
        error_messages={"required": _("Choose the severity.")},
    )
    description = forms.CharField(
        label=_("Description"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    action = forms.CharField(
        label=_("Action taken"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what was done (or that nothing was needed).")},
    )

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["at"] = self.on_day("at")
        return data


class DischargeForm(ChartForm):
    section = "discharge"

    at = ClinicTimeField(label=_("Discharge time"), error_messages={"required": _("Enter the discharge time.")})
    discharged_to = forms.CharField(
        label=_("Discharged to"),
        max_length=150,
        help_text=_("Who takes the patient home, for example the driver's name."),
        error_messages={"required": _("Say to whom the patient is discharged.")},
    )
    override_reason = forms.CharField(
        label=_("Reason to discharge despite the stops"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Only if you judge the patient safe to leave although the chart says otherwise: write why. "
            "Each stop is recorded as overridden by you, with this reason."
        ),
    )

    def __init__(self, *args, can_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_override:
            del self.fields["override_reason"]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["at"] = self.on_day("at")
        return data


class AddendumForm(ChartForm):
    section = "addendum"

    text = forms.CharField(
        label=_("Addendum"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Dated and signed with your name; the signed chart itself stays as it was."),
        error_messages={"required": _("Write the addendum.")},
    )


class SignForm(ChartForm):
    """The signature; for a REMS treatment with the form's question of when the patient would have
    been ready to leave."""

    section = "sign"

    ready_without_rule_minutes = Whole(
        0,
        24 * 60,
        label=_("Ready to leave without the 2-hour rule (minutes)"),
        help_text=_(
            "For the REMS monitoring form: had there been no 2-hour rule, how many minutes after the first "
            "administration the patient would have been ready to leave."
        ),
    )

    def __init__(self, *args, rems: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not rems:
            del self.fields["ready_without_rule_minutes"]

    def values(self) -> dict:
        return dict(self.cleaned_data)
