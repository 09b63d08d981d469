"""Writes of the voting app: polls, ballots, sealing keys.

They refuse with ``council.refusals.Refusal``, like every service.
"""
