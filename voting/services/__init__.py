"""Writes of the voting app: polls, ballots, sealing keys."""


class VotingError(Exception):
    """A refused voting action; ``message`` is meant for the person asking."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)
