"""The site agent: a card tap becomes an event in the local outbox at once; a sender posts the outbox to the
portal's ``POST /api/v1/events`` in batches with the device key, and retries with exponential backoff while the
portal cannot be reached. Two threads, so that a slow or absent portal never delays reading the next card.

Needs only the standard library, pyscard and this package: a site PC does not install the portal.
"""
from __future__ import annotations

import datetime
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ccus_cardreader.outbox import DELIVERED, Outbox

log = logging.getLogger(__name__)

KINDS = ("entry", "exit", "work")
METHOD = "IC"
MAX_BATCH = 500  # the portal takes up to 1,000


@dataclass
class AgentConfig:
    portal_url: str  # e.g. https://ccus.example.jp
    device_key: str
    site_id: str  # 現場ID (14 digits) the device is bound to
    outbox_path: Path
    kind: str = "entry"  # what a tap on this reader means: entry (入場), exit (退場) or work (就業履歴のみ)
    reader: str | None = None  # part of the reader's name; None: every reader
    batch_size: int = MAX_BATCH
    timeout: float = 10.0
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    same_card_window: float = 60.0  # seconds in which a second tap of the same card is the same event (0: off)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if not 0 <= self.same_card_window <= 3600:
            raise ValueError("same_card_window must be between 0 and 3600 seconds")
        self.outbox_path = Path(self.outbox_path)


def make_event(config: AgentConfig, uid: str, when: float | None = None) -> dict:
    """The event for one tap: the card UID as the credential, the local time with its UTC offset."""
    moment = datetime.datetime.fromtimestamp(when if when is not None else time.time()).astimezone()
    return {"credential": uid, "site_id": config.site_id, "kind": config.kind,
            "time": moment.isoformat(timespec="seconds"), "method": METHOD, "extras": {}}


class PortalUnavailable(RuntimeError):
    """No usable answer (network down, timeout, 5xx, a refused key): keep the events and try again later."""


def post_events(config: AgentConfig, events: list[dict]) -> list[tuple[str, str, str | None]]:
    """POST one batch; return (event_id, result, reason) per event, in order."""
    body = json.dumps({"events": events}, ensure_ascii=False).encode()
    request = urllib.request.Request(
        config.portal_url.rstrip("/") + "/api/v1/events", data=body, method="POST",
        headers={"Authorization": f"Bearer {config.device_key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=config.timeout) as response:
            answer = json.loads(response.read().decode() or "{}")
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")[:300]
        raise PortalUnavailable(f"HTTP {e.code}: {detail}") from e
    except (OSError, ValueError) as e:  # URLError, refused, reset, timeout, a broken answer
        raise PortalUnavailable(str(e)) from e
    return parse_results(events, answer)


def parse_results(events: list[dict], answer: dict) -> list[tuple[str, str, str | None]]:
    """The portal answers a result per event, in order: accepted, duplicate, or rejected with a reason code."""
    results = answer.get("results")
    if not isinstance(results, list) or len(results) != len(events):
        raise PortalUnavailable(f"unexpected answer: {str(answer)[:300]}")
    parsed = []
    for event, item in zip(events, results):
        if isinstance(item, str):
            item = {"result": item}
        result = item.get("result") or item.get("status")
        if result not in (*DELIVERED, "rejected"):
            raise PortalUnavailable(f"unexpected result {result!r}")
        if item.get("event_id") not in (None, event["event_id"]):
            raise PortalUnavailable("results out of order")
        parsed.append((event["event_id"], result, item.get("code") or item.get("reason")))
    return parsed


class Sender:
    """Delivers the outbox. :meth:`deliver` sends until the outbox is empty or the portal fails; :meth:`run`
    repeats it with backoff until stopped."""

    def __init__(self, config: AgentConfig, wake: threading.Event | None = None):
        self.config = config
        self.wake = wake or threading.Event()
        self.failures = 0

    def deliver(self, outbox: Outbox) -> int:
        sent = 0
        while batch := outbox.pending(self.config.batch_size):
            outbox.tried([e["event_id"] for e in batch])
            answers = post_events(self.config, batch)
            outbox.answered(answers)
            for event_id, result, reason in answers:
                if result == "rejected":
                    log.warning("イベント %s は受け付けられませんでした: %s", event_id, reason)
            sent += len(batch)
        return sent

    def backoff(self) -> float:
        """Seconds to wait after ``failures`` failures in a row: doubling, capped, with jitter so that the
        readers of a site do not all come back at the same instant."""
        delay = min(self.config.backoff_max, self.config.backoff_base * 2 ** max(0, self.failures - 1))
        return delay * random.uniform(0.5, 1.0)

    def run(self, stop: threading.Event) -> None:
        outbox = Outbox(self.config.outbox_path)
        try:
            while not stop.is_set():
                try:
                    self.deliver(outbox)
                    self.failures = 0
                    outbox.purge()
                    wait = 30.0  # idle: a new tap wakes us earlier
                except PortalUnavailable as e:
                    self.failures += 1
                    wait = self.backoff()
                    log.warning("ポータルに送信できません（%d 回目）: %s。%.1f 秒後に再送します。", self.failures, e, wait)
                self.wake.wait(wait)
                self.wake.clear()
        finally:
            outbox.close()


class Agent:
    """Reader thread (PC/SC → outbox) and sender thread (outbox → portal)."""

    def __init__(self, config: AgentConfig):
        self.config = config
        self.stop = threading.Event()
        self.sender = Sender(config)
        self.threads: list[threading.Thread] = []
        self.last_taps: dict[str, tuple[float, str]] = {}  # UID → (time, event id) of its last recorded tap

    def record_tap(self, outbox: Outbox, uid: str, when: float | None = None) -> str:
        """Buffer the tap's event and wake the sender; a second tap of the same card within the window (a worker
        tapping twice to be sure) is the same event: nothing new is buffered and its event id is returned."""
        when = time.time() if when is None else when
        last = self.last_taps.get(uid)
        if last is not None and 0 <= when - last[0] < self.config.same_card_window:
            return last[1]
        event_id = outbox.add(make_event(self.config, uid, when))
        self.last_taps = {u: t for u, t in self.last_taps.items() if when - t[0] < self.config.same_card_window}
        self.last_taps[uid] = (when, event_id)
        self.sender.wake.set()
        return event_id

    def read_cards(self) -> None:
        from ccus_cardreader import pcsc  # pyscard only where a reader is used

        outbox = Outbox(self.config.outbox_path)
        try:
            for uid, when in pcsc.taps(reader=self.config.reader, poll=0.5, stop=self.stop.is_set):
                event_id = self.record_tap(outbox, uid, when)
                log.info("カードを読み取りました（イベント %s）", event_id)
        finally:
            outbox.close()

    def start(self) -> "Agent":
        self.threads = [threading.Thread(target=self.read_cards, name="reader", daemon=True),
                        threading.Thread(target=self.sender.run, args=(self.stop,), name="sender", daemon=True)]
        for t in self.threads:
            t.start()
        return self

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        self.sender.wake.set()
        for t in self.threads:
            t.join(timeout)
