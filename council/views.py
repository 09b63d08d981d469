from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import DisallowedHost
from django.db.models import Count
from django.http import HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist, loader
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from council.auth import recent_login_for_writes
from council.home import panels_for
from council.keyholders import keyholders
from council.models import Body, Mandate
from council.permissions import Action, allowed, can, remember_roles, require
from council.refusals import Refusal, show_refusal
from council.services import keyholder_mandate_confirm


@dataclass
class BodyDesk:
    """One body as the person asking sees it today."""

    body: Body
    mandates: list[Mandate] = field(default_factory=list)
    members_in_office: int = 0
    panels: list[tuple[str, dict]] = field(default_factory=list)
    may: dict[str, bool] = field(default_factory=dict)  # permissions.allowed

    @property
    def roles(self) -> set[str]:
        return {mandate.role for mandate in self.mandates}

    @property
    def group(self):
        return next((m.group for m in self.mandates if m.group_id), None)


def home(request):
    """The start page: on each body, what the person may do next (asked of `can`)."""
    user = request.user
    today = timezone.localdate()
    desks: dict[int, BodyDesk] = {}
    if user.is_authenticated:
        mandates = (
            Mandate.objects.in_office(on=today)
            .filter(person=user)
            .select_related("body", "group")
            .order_by("body__name", "role")
        )
        for mandate in mandates:
            desk = desks.setdefault(mandate.body_id, BodyDesk(body=mandate.body))
            desk.mandates.append(mandate)
        counts = (
            Mandate.objects.in_office(on=today)
            .voting()
            .filter(body_id__in=desks)
            .values("body_id")
            .annotate(n=Count("person", distinct=True))
        )
        for row in counts:
            desks[row["body_id"]].members_in_office = row["n"]
        for desk in desks.values():
            remember_roles(user, desk.body, desk.roles, on=today)
            desk.may = allowed(user, desk.body, on=today)
        panels = panels_for(user, [desk.body for desk in desks.values()])
        for desk in desks.values():
            desk.panels = panels[desk.body.pk]
    public_bodies = []
    if not desks:
        # Anyone may follow the public side of every body (calendar, agenda).
        bodies = list(Body.objects.order_by("municipality", "name"))
        for b in bodies:
            # The mandates query found none in office: no role to look up again.
            remember_roles(user, b, set(), on=today)
        panels = panels_for(user, bodies)
        public_bodies = [
            BodyDesk(body=b, panels=panels[b.pk], may=allowed(user, b, on=today))
            for b in bodies
        ]
    return render(
        request,
        "council/home.html",
        {
            "desks": list(desks.values()),
            "public_bodies": public_bodies,
            "today": today,
            "manages": can(user, Action.MANAGE_COUNCIL, None),
        },
    )


@recent_login_for_writes
@require_http_methods(["GET", "POST"])
def keyholder_confirm(request, slug: str):
    """The director-general confirms a deputy's keyholder mandate.

    The page is the confirmation step: it says what confirming does before
    the button that does it (a POST, after a recent re-authentication).
    """
    body = get_object_or_404(Body, slug=slug)
    require(request.user, Action.CONFIRM_KEYHOLDER, body)
    holders = keyholders(body)
    if request.method == "POST":
        pending = {str(k.mandate.pk): k.mandate for k in holders if k.pending}
        mandate = pending.get(request.POST.get("mandate", ""))
        if mandate is None:
            messages.error(request, _("Choose a mandate awaiting confirmation."))
            return redirect("keyholder_confirm", slug=body.slug)
        try:
            keyholder_mandate_confirm(mandate=mandate, by=request.user)
        except Refusal as exc:
            show_refusal(request, exc)
        else:
            messages.success(
                request,
                _("%(name)s is now a keyholder of secret ballots.")
                % {"name": mandate.person.display_name},
            )
        return redirect("keyholder_confirm", slug=body.slug)
    return render(
        request,
        "council/keyholder_confirm.html",
        {
            "body": body,
            "pending": [k for k in holders if k.pending],
            "confirmed": [k for k in holders if not k.pending],
        },
    )


def _same_site_referer(request) -> str | None:
    """The path of the page the request came from, when it is one of ours."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(referer)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") and path != request.path else None


def server_error(request, *args, **kwargs):
    """The 500 page: says what may have been recorded; no query, no context processor.

    It may be rendered because the database is gone, so it is rendered without
    the request (no context processor runs, no user or session is read), in
    the language the request asked for.
    """
    language = getattr(request, "LANGUAGE_CODE", None) or (
        translation.get_language_from_request(request)
    )
    context = {"back": _same_site_referer(request)}
    try:
        with translation.override(language):
            page = loader.get_template("500.html").render(context)
    except TemplateDoesNotExist:
        page = "<h1>Server Error (500)</h1>"
    return HttpResponseServerError(page)
