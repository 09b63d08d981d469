# Core models (meetings, agenda, register) and, in their own modules, the
# preparation (documents, convocations, members' items) and the live sitting.
from meetings.models.core import *  # noqa: F403
from meetings.models.preparation import *  # noqa: F403
from meetings.models.sitting import *  # noqa: F403
