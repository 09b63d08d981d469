from django.shortcuts import render
from django.utils import timezone

from council.models import Body, Mandate
from council.permissions import Action


def home(request):
    """Role-aware start page: what each of the user's roles can do next."""
    user = request.user
    mandates = []
    if user.is_authenticated:
        mandates = list(
            Mandate.objects.in_office()
            .filter(person=user)
            .select_related("body", "group")
            .order_by("body__name", "role")
        )
    roles_by_body: dict[Body, list[Mandate]] = {}
    for mandate in mandates:
        roles_by_body.setdefault(mandate.body, []).append(mandate)
    bodies = Body.objects.order_by("municipality", "name")
    return render(
        request,
        "council/home.html",
        {
            "roles_by_body": roles_by_body,
            "public_bodies": bodies,
            "today": timezone.localdate(),
            "Role": Mandate.Role,
            "Action": Action,
        },
    )
