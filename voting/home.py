"""The voting panel of the home page: the keyholder's sealing key.

The template asks ``may`` (council.permissions.allowed) whether to show it;
the context says whether the key is set up.
"""

from council.permissions import Action, can
from voting.models import SealingKey


def home_context(user, bodies) -> dict[int, dict]:
    holds = {b.pk for b in bodies if can(user, Action.HOLD_SEALING_KEY, b)}
    with_key = (
        set(
            SealingKey.objects.filter(
                holder=user, body_id__in=holds, active=True
            ).values_list("body_id", flat=True)
        )
        if holds
        else set()
    )
    return {b.pk: {"has_key": b.pk in with_key} for b in bodies}
