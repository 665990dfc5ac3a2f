"""Reading card UIDs through the real PC/SC stack: pcscd + vpcd + our virtual card, read with pyscard."""
from __future__ import annotations

import threading
import time

import pytest

from ccus_cardreader import pcsc
from ccus_cardreader.vicc import answer, contactless_atr

from cardreader_helpers import READER_NAME

pytestmark = pytest.mark.once  # no database: the PostgreSQL pass of ./dev.sh test leaves it out


def test_virtual_card_answers_like_a_reader():
    uid = bytes.fromhex("04A1B2C3D4E5F6")
    assert answer(bytes(pcsc.GET_UID), uid) == uid + b"\x90\x00"
    assert answer(bytes([0xFF, 0xCA, 0x00, 0x00, 0x04]), uid) == b"\x6c\x07"  # Le too short: the right Le
    assert answer(bytes([0xFF, 0xCA, 0x01, 0x00, 0x00]), uid) == b"\x6a\x81"
    assert answer(bytes([0x00, 0xA4, 0x04, 0x00, 0x00]), uid) == b"\x6e\x00"
    atr = contactless_atr()
    check = 0
    for b in atr[1:]:
        check ^= b
    assert atr[0] == 0x3B and check == 0  # TCK makes the XOR of T0..TCK zero


def test_reads_uid_through_pcscd(virtual_card):
    card = virtual_card("04A1B2C3D4E5F6")
    with pcsc.CardWatcher(READER_NAME) as watcher:
        assert watcher.readers(), "pcscd does not list the vpcd reader"
    assert pcsc.read_one(timeout=0.5, reader=READER_NAME) is None  # no card yet
    card.insert()
    assert pcsc.read_one(timeout=10, reader=READER_NAME) == "04A1B2C3D4E5F6"
    assert bytes(pcsc.GET_UID) in card.apdus  # it really went through pcscd to the card


def test_no_reader_is_an_error_not_a_hang(pcscd):
    with pcsc.CardWatcher("no such reader") as watcher:
        try:
            watcher.next_card(0.5)
        except pcsc.PcscError as e:
            assert "見つかりません" in str(e)
        else:
            raise AssertionError("expected PcscError")


def test_each_card_put_on_counts_once(virtual_card):
    first, second = virtual_card("11223344"), virtual_card("0102030405060708")
    first.insert()
    time.sleep(1.5)  # pcscd has seen it: lying on the reader before the agent starts, not a tap
    seen, done = [], threading.Event()

    def run():
        for uid, when in pcsc.taps(reader=READER_NAME, poll=0.3, stop=done.is_set):
            seen.append(uid)
            if len(seen) == 2:
                done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(1.5)
    assert seen == []
    first.remove()
    second.insert()
    _wait_for(lambda: len(seen) == 1)
    time.sleep(1)  # lying on the reader: still one tap
    second.remove()
    time.sleep(1)
    first.insert()
    t.join(timeout=15)
    assert seen == ["0102030405060708", "11223344"]


def _wait_for(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
