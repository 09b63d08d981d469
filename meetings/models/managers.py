"""Reusable filters on meetings, and the one way to lock a meeting's row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from meetings.models.core import Meeting


class MeetingQuerySet(models.QuerySet):
    def published(self) -> MeetingQuerySet:
        """Convened or later (``Meeting.is_published``): no drafts."""
        return self.exclude(state=self.model.State.DRAFT)

    def upcoming(self) -> MeetingQuerySet:
        """Convened or running: the sittings members are expected at."""
        return self.published().exclude(state=self.model.State.CLOSED)

    def sitting_soon(self, now=None) -> MeetingQuerySet:
        """Sittings about to sit or sitting (``Meeting.is_about_to_sit``).

        The one rule of "ways in" (home page, meeting page, calendar):
        convened and starting within ``SITTING_SOON`` (or started less than
        ``SITTING_SOON`` ago and not opened yet), or open or suspended,
        until the sitting closes.
        """
        now = now or timezone.now()
        soon = self.model.SITTING_SOON
        return self.filter(
            models.Q(state__in=self.model.LIVE_STATES)
            | models.Q(
                state=self.model.State.CONVENED,
                starts_at__lte=now + soon,
                starts_at__gte=now - soon,
            )
        )

    def editable(self) -> MeetingQuerySet:
        """Still in preparation (``Meeting.is_editable``): the agenda may change."""
        return self.filter(state__in=self.model.EDITABLE_STATES)

    def lock(self, pk: int) -> Meeting:
        """Re-read the meeting under a row lock, with its body and current item.

        Call it inside a transaction: every write to a meeting, its agenda or
        its sitting takes this lock first, so such writes queue up. Only the
        meeting's own row is locked (PostgreSQL refuses FOR UPDATE on the
        nullable side of the current item's outer join), and without its key
        (FOR NO KEY UPDATE): rows that merely point at the meeting, such as
        its sitting state created by a publish, need not wait for it, and a
        transaction holding the lock while another inserts one cannot
        deadlock.
        """
        return (
            self.select_for_update(of=("self",), no_key=True)
            .select_related("body", "current_item")
            .get(pk=pk)
        )
