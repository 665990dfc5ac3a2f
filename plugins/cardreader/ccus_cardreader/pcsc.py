"""Reading a card's UID through PC/SC (pyscard).

Every PC/SC contactless reader answers the pseudo-APDU GET DATA (``FF CA 00 00 00``, PC/SC part 3) with the
card's UID (MIFARE, Type B PUPI, or FeliCa IDm), whatever the card holds otherwise, so the agent needs no
card-specific code and never reads the worker's data from the card.

:class:`CardWatcher` keeps the reader states between waits (SCardGetStatusChange), so a card put on the reader
while the agent was busy is still seen, and a card left lying on the reader counts once.
"""
from __future__ import annotations

import logging
import time
from typing import Iterator

from smartcard import scard

log = logging.getLogger(__name__)

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]
_EVENT_COUNT_SHIFT = 16  # pcsc-lite counts card events in the upper 16 bits of the event state


class PcscError(RuntimeError):
    """PC/SC failed (no pcscd, no reader) or the card answered GET DATA with an error."""


def uid_hex(data) -> str:
    """A UID as the portal stores and shows it: upper-case hex without separators."""
    return bytes(data).hex().upper()


def _check(hresult, what: str) -> None:
    if hresult != scard.SCARD_S_SUCCESS:
        raise PcscError(f"{what}: {scard.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})")


class CardWatcher:
    """Watches the readers whose name contains ``reader`` (all readers if None) for cards being put on."""

    def __init__(self, reader: str | None = None):
        self.reader_filter = reader
        hresult, self.context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check(hresult, "SCardEstablishContext")
        self.states: list | None = None  # (reader, state, atr) as pcscd last told us

    def close(self) -> None:
        scard.SCardReleaseContext(self.context)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def readers(self) -> list[str]:
        hresult, names = scard.SCardListReaders(self.context, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        _check(hresult, "SCardListReaders")
        return [n for n in names if not self.reader_filter or self.reader_filter in n]

    def _wait(self, timeout: float) -> list | None:
        """New states after a change (None on timeout). The first call reports the current state at once."""
        if self.states is None:
            names = self.readers()
            if not names:
                raise PcscError("カードリーダーが見つかりません。")
            current = [(n, scard.SCARD_STATE_UNAWARE) for n in names]
        else:
            current = [(n, s & ~scard.SCARD_STATE_CHANGED) for n, s, _atr in self.states]
        hresult, new = scard.SCardGetStatusChange(self.context, int(timeout * 1000), current)
        if hresult == scard.SCARD_E_TIMEOUT:
            return None
        _check(hresult, "SCardGetStatusChange")
        return new

    def next_card(self, timeout: float, new_only: bool = True) -> str | None:
        """The UID of the next card put on a reader within ``timeout`` seconds, or None. With ``new_only``
        False, a card already on the reader counts too (a one-off read)."""
        deadline = time.monotonic() + timeout
        first = self.states is None
        while True:
            before = {n: s for n, s, _ in self.states or []}
            new = self._wait(max(0.0, deadline - time.monotonic()))
            if new is None:
                return None
            self.states = new
            for name, state, _atr in new:
                if not state & scard.SCARD_STATE_PRESENT or state & scard.SCARD_STATE_MUTE:
                    continue
                old = before.get(name)
                put_on = (not first or not new_only) and (
                    old is None or not old & scard.SCARD_STATE_PRESENT
                    or (old >> _EVENT_COUNT_SHIFT) != (state >> _EVENT_COUNT_SHIFT))  # off and on between waits
                if put_on:
                    return self.read_uid(name)
            first = False
            if time.monotonic() >= deadline:
                return None

    def read_uid(self, reader: str) -> str:
        hresult, card, protocol = scard.SCardConnect(self.context, reader, scard.SCARD_SHARE_SHARED,
                                                      scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        _check(hresult, "SCardConnect")  # the card was pulled away too early
        try:
            hresult, response = scard.SCardTransmit(card, protocol, GET_UID)
            _check(hresult, "SCardTransmit")
        finally:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
        data, sw = response[:-2], response[-2:]
        if sw != [0x90, 0x00] or not data:
            raise PcscError("GET DATA answered " + uid_hex(sw))
        return uid_hex(data)


def read_one(timeout: float = 10.0, reader: str | None = None) -> str | None:
    """The UID of the card on the reader now, or of the next one put on within ``timeout`` seconds."""
    with CardWatcher(reader) as watcher:
        return watcher.next_card(timeout, new_only=False)


def taps(reader: str | None = None, poll: float = 1.0, stop=lambda: False) -> Iterator[tuple[str, float]]:
    """Yield (UID, time.time()) for each card put on the reader until ``stop()`` is true. A card must be taken
    away and put back to count again (one tap, one event). Errors are logged and retried, never raised: a reader
    that hiccups or a pcscd that restarts must not stop the gate."""
    watcher = None
    while not stop():
        try:
            if watcher is None:
                watcher = CardWatcher(reader)
            uid = watcher.next_card(poll)
        except PcscError as e:
            log.warning("カードを読み取れませんでした: %s", e)
            if watcher is not None:
                watcher.close()
            watcher = None  # start afresh: the reader list or pcscd may have changed
            time.sleep(poll)
            continue
        if uid:
            yield uid, time.time()
    if watcher is not None:
        watcher.close()
