from dataclasses import dataclass, field

from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from council.home import panels_for
from council.models import Body, Mandate
from council.permissions import remember_roles

Role = Mandate.Role


@dataclass
class BodyDesk:
    """One body as the person asking sees it today."""

    body: Body
    mandates: list[Mandate] = field(default_factory=list)
    members_in_office: int = 0
    panels: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def roles(self) -> set[str]:
        return {mandate.role for mandate in self.mandates}

    @property
    def is_member(self) -> bool:
        return bool(self.roles & {Role.COUNCILLOR, Role.CHAIR})

    @property
    def is_chair(self) -> bool:
        return Role.CHAIR in self.roles

    @property
    def is_clerk(self) -> bool:
        return Role.CLERK in self.roles

    @property
    def is_director_general(self) -> bool:
        return Role.DIRECTOR_GENERAL in self.roles

    @property
    def is_deputy_director_general(self) -> bool:
        return Role.DEPUTY_DIRECTOR_GENERAL in self.roles

    @property
    def group(self):
        return next((m.group for m in self.mandates if m.group_id), None)


def home(request):
    """Role-aware start page: what each of the user's roles can do next."""
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
        panels = panels_for(user, [desk.body for desk in desks.values()])
        for desk in desks.values():
            desk.panels = panels[desk.body.pk]
    public_bodies = []
    if not desks:
        # Anyone may follow the public side of every body (calendar, agenda).
        bodies = list(Body.objects.order_by("municipality", "name"))
        panels = panels_for(user, bodies)
        public_bodies = [BodyDesk(body=b, panels=panels[b.pk]) for b in bodies]
    return render(
        request,
        "council/home.html",
        {
            "desks": list(desks.values()),
            "public_bodies": public_bodies,
            "today": today,
        },
    )
