"""Forms of the preparation pages; rules live in the services, not here."""

from django import forms
from django.utils.translation import gettext_lazy as _

from meetings.models import AgendaItem, Meeting
from meetings.services.agenda import ITEM_FIELDS
from meetings.services.documents import MAX_UPLOAD_BYTES
from meetings.services.meetings import MEETING_FIELDS


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _url_field(name: str) -> forms.URLField:
    field = Meeting._meta.get_field(name)
    return forms.URLField(
        label=field.verbose_name, required=False, assume_scheme="https"
    )


class MeetingForm(forms.ModelForm):
    """Times are read and shown in the body's time zone (set by the view)."""

    video_url = _url_field("video_url")
    livestream_url = _url_field("livestream_url")

    class Meta:
        model = Meeting
        fields = MEETING_FIELDS
        widgets = {
            "starts_at": DateTimeLocalInput(),
            "expected_end": DateTimeLocalInput(),
            "remote_reason": forms.Textarea(attrs={"rows": 3}),
            "remote_instructions": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "remote_reason": _("Required for a remote or hybrid sitting."),
            "remote_tool": _("For example Jitsi Meet or Microsoft Teams."),
            "remote_instructions": _("Required for a remote or hybrid sitting."),
            "convocation_round": _(
                "On a third convocation the notice is two clear days instead of seven."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "expected_end"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]

    def _post_clean(self):
        # The service validates the whole meeting (it knows the state); the
        # model's own checks would run on a half-built instance here.
        pass


class ItemForm(forms.ModelForm):
    class Meta:
        model = AgendaItem
        fields = ITEM_FIELDS
        widgets = {
            "explanatory_note": forms.Textarea(attrs={"rows": 6}),
            "draft_decision": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {
            "kind": _(
                "Appointment and personnel items are always handled in closed "
                "session by secret ballot."
            ),
        }

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if members is not None:
            self.fields["rapporteur"].queryset = members

    def clean(self):
        data = super().clean()
        data.update(AgendaItem.forced_by_kind(data.get("kind")))
        return data

    def _post_clean(self):
        pass


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    title = forms.CharField(label=_("Title (optional)"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "PDF or office document, at most %(limit)s MB."
        ) % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}


class ConveneForm(forms.Form):
    urgent = forms.BooleanField(
        label=_("Urgent convocation (later than the legal notice)"), required=False
    )
    urgency_reason = forms.CharField(
        label=_("Reason for the urgency"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )


class SubmissionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=500)
    explanatory_note = forms.CharField(
        label=_("Explanatory note"), widget=forms.Textarea(attrs={"rows": 6})
    )
    draft_decision = forms.CharField(
        label=_("Draft decision"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for declining"), widget=forms.Textarea(attrs={"rows": 2})
    )
