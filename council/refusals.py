"""The one refusal type of every service, and the one way views show it.

A service that will not do what was asked raises ``Refusal`` with a message
constant of its module; views pass it to ``show_refusal`` (or attach it to
their form) and consumers answer it on the socket. It is a Django
``ValidationError``, so forms and the admin treat it as one.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError


class Refusal(ValidationError):
    """A service refused: ``message`` says why, to the person asking."""

    def __str__(self) -> str:
        return " ".join(str(m) for m in self.messages)


def refusal_messages(error: ValidationError) -> list[str]:
    """The messages of a refusal or of any validation error, field names dropped."""
    return [str(m) for m in error.messages]


def show_refusal(request, error: ValidationError) -> None:
    """Tell the person asking why it was refused, on the next page they see."""
    for message in refusal_messages(error):
        messages.error(request, message)
