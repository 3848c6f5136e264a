"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it accepts: for the reminder tests
and the reminder benchmark, so e-mail really travels over SMTP."""

import asyncio
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header

from aiosmtpd.controller import Controller


@dataclass
class Received:
    recipient: str
    content: bytes  # the message as sent
    at: float  # time.time() when accepted

    @property
    def subject(self) -> str:
        # Parsed when asked, not while accepting: the benchmark's sink shares the cores with the worker.
        parsed = message_from_bytes(self.content)
        return str(make_header(decode_header(parsed["Subject"] or "")))


@dataclass
class SinkHandler:
    delay: float = 0.0  # seconds before accepting each message: a slow server
    hold_after: int | None = None  # once this many are accepted, hold the next ones until released
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    held: int = 0  # messages received in full and waiting for their reply

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            hold = self.hold_after is not None and len(self.messages) >= self.hold_after
            # Kept for delivery before the reply, as a real server commits to its queue first.
            for recipient in envelope.rcpt_tos:
                self.messages.append(Received(recipient, envelope.content, time.time()))
            if hold:
                self.held += 1
        while hold and not self.release.is_set():
            await asyncio.sleep(0.01)
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, delay: float = 0.0, hold_after: int | None = None):
        self.handler = SinkHandler(delay=delay, hold_after=hold_after)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def counts(self) -> Counter:
        """How many times each (recipient, subject) arrived."""
        return Counter((m.recipient, m.subject) for m in self.messages)

    def __len__(self) -> int:
        """How many messages were accepted (one per recipient)."""
        return len(self.handler.messages)

    def wait_until_held(self, count: int, timeout: float) -> bool:
        """Until `count` senders are mid-message: their message received, the reply not yet given."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.handler.held >= count:
                return True
            time.sleep(0.01)
        return False

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self) >= count:
                return True
            time.sleep(0.05)
        return False
