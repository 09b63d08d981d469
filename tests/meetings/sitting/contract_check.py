"""Every message of the live sitting, checked against its declared contract.

Used by the sitting and voting tests (an autouse fixture in their conftest):
whatever a test makes the sitting publish or send, each update and the
snapshot it records, and each message a sitting socket sends (hello,
snapshot, update, error), must match ``meetings.live.contract``. The check
runs where the messages are made, often in a worker thread or the relay that
swallow errors, so failures are collected and raised when the test ends.
"""

import json

import pytest

from meetings.consumers import _SittingConsumerBase
from meetings.live import contract, publisher, snapshot


class Checked:
    def __init__(self):
        self.messages: list[tuple[str, dict]] = []
        self.failures: list[str] = []

    def check(self, message: dict, audience: str, what: str) -> None:
        try:
            contract.check_message(message, audience, snapshot.part_schemas())
        except contract.ContractError as exc:
            self.failures.append(f"{what} to {audience}: {exc}")
        self.messages.append((audience, message))

    def check_snapshot(self, data: dict, audience: str) -> None:
        try:
            contract.check_snapshot(data, audience, snapshot.part_schemas())
        except contract.ContractError as exc:
            self.failures.append(f"stored snapshot of {audience}: {exc}")


@pytest.fixture(autouse=True)
def live_messages_follow_the_contract(monkeypatch):
    checked = Checked()
    update_texts = publisher._update_texts

    def checked_update_texts(*args):
        texts, record = update_texts(*args)
        for audience, text in texts.items():
            checked.check(json.loads(text), audience, "update")
            checked.check_snapshot(json.loads(record[f"{audience}_json"]), audience)
        return texts, record

    send = _SittingConsumerBase.send

    async def checked_send(self, text_data=None, bytes_data=None, close=False):
        if text_data is not None:
            checked.check(json.loads(text_data), self.audience, "socket message")
        return await send(self, text_data=text_data, bytes_data=bytes_data, close=close)

    monkeypatch.setattr(publisher, "_update_texts", checked_update_texts)
    monkeypatch.setattr(_SittingConsumerBase, "send", checked_send)
    yield checked
    assert not checked.failures, "\n".join(checked.failures)
