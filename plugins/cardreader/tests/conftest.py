"""A real PC/SC stack for the card reader tests: pcscd with the vpcd driver, and our virtual card.

pcscd runs as a subprocess of the test session with its own reader configuration (one vpcd reader on a free
port) and, in a private mount namespace, its own /run/pcscd, so it neither needs nor disturbs a system pcscd;
the tests reach it through PCSCLITE_CSOCK_NAME. Missing pcscd or vpcd fails the tests loudly (./dev.sh setup
installs both): a skipped card reader test would hide a broken gate.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
from cardreader_helpers import READER_NAME  # noqa: E402


def _free_port_pair() -> int:
    """A port p with p and p + 1 free (vpcd opens one per slot)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("0.0.0.0", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair for vpcd")


class Pcscd:
    def __init__(self, root: Path):
        pcscd = shutil.which("pcscd") or ("/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None)
        if not pcscd:
            pytest.fail("pcscd is not installed (Debian package pcscd; ./dev.sh setup installs it)")
        if not VPCD_DRIVER.exists():
            pytest.fail("the vpcd driver is not installed (Debian package vsmartcard-vpcd; ./dev.sh setup installs it)")
        if not shutil.which("unshare"):
            pytest.fail("unshare (util-linux) is needed to give the test pcscd its own /run/pcscd")
        self.port = _free_port_pair()
        self.run_dir, conf = root / "run", root / "reader.conf.d"
        self.run_dir.mkdir()
        conf.mkdir()
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{READER_NAME}"\nDEVICENAME /dev/null:{self.port}\nLIBPATH {VPCD_DRIVER}\n'
            f"CHANNELID {self.port}\n")
        self.socket_path = self.run_dir / "pcscd.comm"
        self.log_path = root / "pcscd.log"
        # pcscd's socket directory is compiled in (/run/pcscd): a private mount namespace gives it ours.
        script = (f'mkdir -p /run/pcscd && mount --bind "{self.run_dir}" /run/pcscd && '
                  f'exec "{pcscd}" --foreground --debug --config "{conf}"')
        self.process = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                        stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail("pcscd exited at start-up (a private mount namespace needs root or CAP_SYS_ADMIN):\n"
                            + self.log_path.read_text(errors="replace")[-3000:])
            if self.socket_path.exists() and self._listening():
                return
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"pcscd did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def _listening(self) -> bool:
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(str(self.socket_path))
                return True
            except OSError:
                return False

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory):
    """A private pcscd with one vpcd reader; PCSCLITE_CSOCK_NAME points this process (and the agents it
    starts) at it. libpcsclite reads the variable once per process, so the whole session shares one pcscd."""
    daemon = Pcscd(tmp_path_factory.mktemp("pcscd"))
    os.environ["PCSCLITE_CSOCK_NAME"] = str(daemon.socket_path)
    yield daemon
    daemon.stop()


@pytest.fixture
def virtual_card(pcscd):
    """``virtual_card(uid)`` → a VirtualCard for the test reader (not yet inserted); all are removed after."""
    from ccus_cardreader.vicc import VirtualCard

    cards = []

    def make(uid: str) -> VirtualCard:
        card = VirtualCard(uid, pcscd.port)
        cards.append(card)
        return card

    yield make
    for card in cards:
        card.remove()
