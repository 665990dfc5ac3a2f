"""Card reader: tap → outbox latency through the real PC/SC stack (issue 14's target: under 300 ms).

A private pcscd with the vpcd reader (the one the card reader tests start), the site agent's reader thread
(ccus_cardreader.agent.Agent), and our virtual card put on the reader at a random moment: the latency is from the
card's connection to vpcd to the event row in the agent's SQLite outbox (read every millisecond by a second
connection). The portal is not involved (the sender has nowhere to send).

    .venv/bin/python -m bench.cardreader_tap [taps]      (needs root for pcscd's private mount namespace)
"""
from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "plugins" / "cardreader" / "tests"


def main(taps: int = 30) -> dict:
    sys.path.insert(0, str(TESTS))
    from conftest import Pcscd  # noqa: E402  (the tests' own private pcscd)

    from ccus_cardreader.agent import Agent, AgentConfig
    from ccus_cardreader.vicc import VirtualCard

    root = Path(tempfile.mkdtemp(prefix="bench-cardreader-"))
    daemon = Pcscd(root)
    os.environ["PCSCLITE_CSOCK_NAME"] = str(daemon.socket_path)
    outbox = root / "outbox.sqlite"
    agent = Agent(AgentConfig(portal_url="http://127.0.0.1:9", device_key="k", site_id="36265810102371",
                              outbox_path=outbox, reader="CCUS Virtual PCD", same_card_window=0)).start()
    latencies = []
    try:
        while not outbox.exists():
            time.sleep(0.01)
        reader = sqlite3.connect(outbox)
        count = lambda: reader.execute("select count(*) from outbox").fetchone()[0]  # noqa: E731
        time.sleep(1.0)
        for i in range(taps):
            before = count()
            time.sleep(random.uniform(0.3, 0.9))  # a tap at any moment of pcscd's polling cycle
            card = VirtualCard(f"04{i:012X}", daemon.port)
            start = time.perf_counter()
            card.insert()
            while count() == before:
                time.sleep(0.001)
                if time.perf_counter() - start > 5:
                    raise RuntimeError("a tap did not reach the outbox within 5 s")
            latencies.append((time.perf_counter() - start) * 1000)
            card.remove()
        reader.close()
    finally:
        agent.shutdown()
        daemon.stop()
    ordered = sorted(latencies)
    found = {"taps": taps, "median_ms": round(statistics.median(ordered), 1),
             "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1), "max_ms": round(ordered[-1], 1),
             "min_ms": round(ordered[0], 1)}
    print(found)
    return found


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
