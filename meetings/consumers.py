"""Websocket endpoint of a live sitting.

Only translates: checks who is asking, joins the sitting's group, relays group
events. The live-sitting protocol (versioned snapshots) builds on this.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from council.permissions import Action, can
from meetings.models import Meeting


def members_group(meeting_id: int) -> str:
    return f"sitting.{meeting_id}.members"


def public_group(meeting_id: int) -> str:
    return f"sitting.{meeting_id}.public"


@database_sync_to_async
def _member_meeting(user, meeting_id: int) -> Meeting | None:
    meeting = Meeting.objects.select_related("body").filter(pk=meeting_id).first()
    if meeting is None or not can(user, Action.VIEW_MEMBER_AREA, meeting.body):
        return None
    return meeting


class SittingConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        if not getattr(user, "is_authenticated", False):
            await self.close(code=4401)
            return
        self.meeting = await _member_meeting(user, meeting_id)
        if self.meeting is None:
            await self.close(code=4403)
            return
        self.group = members_group(meeting_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def sitting_event(self, event):
        await self.send_json(event["payload"])
