from dataclasses import dataclass, field

from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from council.home import panels_for
from council.models import Body, Mandate
from council.permissions import Action, allowed, can, remember_roles


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
