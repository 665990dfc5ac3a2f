"""End to end: a card put on a reader (our virtual card through pcscd) → the site agent (``ccus-cardreader run``,
its own process) → POST /api/v1/events of a real running portal → an event and a work history with the mark IC.
The portal is down at first: the taps wait in the outbox and arrive exactly once when it is back."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from cardreader_helpers import MEGURO, READER_NAME, SITE_A, Server, wait_for
from ccus_cardreader import cards
from ccus_cardreader.outbox import Outbox
from portal.devices import enrollable_worker
from portal.devices.testing import events_of, histories_of, operator, register_device

CARD = "04A1B2C3D4E5F6"
UNKNOWN_CARD = "0102030405060708"


def _setup(app) -> tuple[int, str]:
    """A card reader on A現場 and 目黒's card enrolled; returns (device pk, device key)."""
    device, key = register_device(app, SITE_A, "cardreader", name="ゲート1")
    with operator(app):
        cards.enrol_card(enrollable_worker(MEGURO), CARD)
    return device.id, key


def _stored(app, device_pk):
    # tap times are whole seconds: two taps within one second tie, the known card (tapped first) then first
    events = sorted(events_of(app, device_pk), key=lambda e: (e.occurred_at, e.worker_id is None))
    rows = [(e.worker_id, e.method, e.credential_hash is not None) for e in events]
    # the days these events made (the demo has its own histories on other days)
    days = {(e.worker_id, e.site_id, e.work_date) for e in events if e.identified}
    history = [h for worker in sorted({w for w, _s, _d in days}) for h in histories_of(app, worker)
               if (h.worker_id, h.site_id, h.work_date) in days]
    return rows, [(h.methods, h.counted) for h in history]


def _start_agent(portal_url: str, key: str, outbox_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "ccus-cardreader"), "-v", "run", "--portal", portal_url, "--site", SITE_A,
         "--outbox", str(outbox_path), "--reader", READER_NAME, "--backoff-max", "1"],
        env={**os.environ, "CCUS_DEVICE_KEY": key}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop_agent(agent: subprocess.Popen) -> str:
    agent.send_signal(signal.SIGTERM)
    output = agent.communicate(timeout=20)[0]
    assert agent.returncode == 0, output
    return output


def test_taps_reach_the_portal_through_an_outage_exactly_once(demo_app, virtual_card, tmp_path):
    device_pk, key = _setup(demo_app)
    portal = Server(demo_app)  # down for now
    outbox_path = tmp_path / "outbox.sqlite"
    agent = _start_agent(portal.url, key, outbox_path)
    try:
        wait_for(outbox_path.exists, what="the agent's outbox")
        box = Outbox(outbox_path)
        for n, uid in enumerate([CARD, UNKNOWN_CARD], 1):
            card = virtual_card(uid).insert()
            wait_for(lambda: len(box.pending()) == n, what=f"tap {n}")
            card.remove()
        wait_for(lambda: box.db.execute("select min(attempts) from outbox").fetchone()[0] >= 2,
                 what="retries while the portal is down")
        assert _stored(demo_app, device_pk) == ([], [])
        portal.start()
        wait_for(lambda: box.counts() == {"accepted": 2}, what="delivery")
        events, history = _stored(demo_app, device_pk)
        assert events == [(MEGURO, "IC", False), (None, "IC", True)]  # the unknown card: kept, not counted
        assert history == [("IC", True)]
        output = _stop_agent(agent)
        assert "ポータルに送信できません" in output  # the outage was logged
        assert CARD not in output  # card UIDs are not written to the log
        # the agent restarts having lost the answers, and sends everything again: nothing is stored twice
        box.db.execute("update outbox set result = null")
        agent = _start_agent(portal.url, key, outbox_path)
        wait_for(lambda: box.counts() == {"duplicate": 2}, what="replay answered")
        assert _stored(demo_app, device_pk)[0] == events
    finally:
        if agent.poll() is None:
            _stop_agent(agent)
        portal.stop()
