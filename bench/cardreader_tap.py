"""Card reader: tap → outbox latency through the real PC/SC stack (issue 14's target: under 300 ms).

A private pcscd with the vpcd reader (the one the card reader tests start), the site agent's reader thread
(ccus_cardreader.agent.Agent), and our virtual card put on the reader at a random moment: the latency is from the
card's connection to vpcd to the event row in the agent's SQLite outbox (read every millisecond by a second
connection). The portal is not involved (the sender has nowhere to send).

Each tap is timed in two phases: until pcscd reports the card (a PC/SC context of the benchmark's own waits in
SCardGetStatusChange, as the agent does), and from there to the outbox row (the agent: connect, GET DATA, the
outbox write). The baseline of the same run is the emulator as it was before issue 14's fix (without quick
acknowledgements: every vpcd message then waits up to 40 ms, ccus_cardreader.vicc._ack_at_once); the taps
alternate between the two, so both meet the same load.

    .venv/bin/python -m bench.cardreader_tap [taps]      (needs root for pcscd's private mount namespace)
"""
from __future__ import annotations

import datetime
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "plugins" / "cardreader" / "tests"
RESULTS = Path(__file__).resolve().parent / "results"


def _summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 1), "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
            "min": round(ordered[0], 1), "max": round(ordered[-1], 1)}


def _present(context, reader: str, timeout_ms: int = 5000) -> None:
    """Wait until pcscd reports a card on ``reader`` (what the agent's CardWatcher waits for)."""
    from smartcard import scard

    state = scard.SCARD_STATE_UNAWARE
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        hresult, found = scard.SCardGetStatusChange(context, timeout_ms, [(reader, state)])
        if hresult != scard.SCARD_S_SUCCESS:
            continue
        [(_name, state, _atr)] = found
        if state & scard.SCARD_STATE_PRESENT:
            return
        state &= ~scard.SCARD_STATE_CHANGED
    raise RuntimeError("pcscd did not report the card within 5 s")


def main(taps: int = 30) -> dict:
    sys.path.insert(0, str(TESTS))
    from conftest import Pcscd  # noqa: E402  (the tests' own private pcscd)
    from smartcard import scard

    from ccus_cardreader import vicc
    from ccus_cardreader.agent import Agent, AgentConfig
    from ccus_cardreader.vicc import VirtualCard

    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="bench-cardreader-"))
    daemon = Pcscd(root)
    os.environ["PCSCLITE_CSOCK_NAME"] = str(daemon.socket_path)
    outbox = root / "outbox.sqlite"
    agent = Agent(AgentConfig(portal_url="http://127.0.0.1:9", device_key="k", site_id="36265810102371",
                              outbox_path=outbox, reader="CCUS Virtual PCD", same_card_window=0)).start()
    timings: dict[str, dict[str, list[float]]] = {v: {"total": [], "pcscd": [], "agent": []}
                                                  for v in ("baseline", "fixed")}
    quick_ack = vicc._ack_at_once
    try:
        while not outbox.exists():
            time.sleep(0.01)
        reader = sqlite3.connect(outbox)
        count = lambda: reader.execute("select count(*) from outbox").fetchone()[0]  # noqa: E731
        _hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        name = sorted(n for n in scard.SCardListReaders(context, [])[1] if "CCUS Virtual PCD" in n)[0]  # slot 0: our port
        time.sleep(1.0)
        for i in range(taps * 2):
            variant = ("baseline", "fixed")[i % 2]
            vicc._ack_at_once = quick_ack if variant == "fixed" else (lambda sock: None)
            before = count()
            time.sleep(random.uniform(0.3, 0.9))  # a tap at any moment of pcscd's polling cycle
            card = VirtualCard(f"04{i:012X}", daemon.port)
            start = time.perf_counter()
            card.insert()
            _present(context, name)
            reported = time.perf_counter()
            while count() == before:
                time.sleep(0.001)
                if time.perf_counter() - start > 5:
                    raise RuntimeError("a tap did not reach the outbox within 5 s")
            done = time.perf_counter()
            for phase, ms in (("total", done - start), ("pcscd", reported - start), ("agent", done - reported)):
                timings[variant][phase].append(ms * 1000)
            card.remove()
        scard.SCardReleaseContext(context)
        reader.close()
    finally:
        vicc._ack_at_once = quick_ack
        agent.shutdown()
        daemon.stop()
    found = {"taps": taps, "load_before": [round(x, 2) for x in load_before],
             "load_after": [round(x, 2) for x in os.getloadavg()],
             **{v: {phase: _summary(values) for phase, values in phases.items()} for v, phases in timings.items()}}
    found["ratio_median"] = round(found["fixed"]["total"]["median"] / found["baseline"]["total"]["median"], 2)
    print(found)
    _write(found)
    return found


def _write(found: dict) -> Path:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    rows = "\n".join(
        f"| {v} | {phase} | {s['min']} | {s['median']} | {s['p95']} | {s['max']} |"
        for v in ("baseline", "fixed") for phase, s in found[v].items())
    path = RESULTS / f"cardreader-tap-{stamp}.md"
    path.write_text(
        f"# Card reader: tap → outbox, {stamp} UTC\n\n"
        f"`.venv/bin/python -m bench.cardreader_tap {found['taps']}`: {found['taps']} taps of each variant, "
        f"alternating. Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"load average before {found['load_before']}, after {found['load_after']}.\n\n"
        "| variant | phase | min ms | median ms | p95 ms | max ms |\n|---|---|---|---|---|---|\n"
        f"{rows}\n\nmedian ratio fixed / baseline: **{found['ratio_median']}**\n")
    return path


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
