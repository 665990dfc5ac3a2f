"""A virtual contactless card for vpcd (the virtual PC/SC reader driver of the vsmartcard project), written for
our tests and demonstrations: it answers GET DATA with a configurable UID, as a real reader does for a card.

vpcd's protocol, as its sources describe it: the driver (inside pcscd) listens on a TCP port (the number after
``/dev/null:`` in its reader.conf; the second slot on port + 1) and the card connects to it; being connected is
being on the reader. Every message, both ways, is a 2-byte big-endian length followed by that many bytes. A
1-byte message from the reader is a control code: 0 power off, 1 power on, 2 reset (no answer), 4 "send your
ATR" (answer: the ATR). A longer message is a command APDU; the answer is the response APDU.
"""
from __future__ import annotations

import logging
import socket
import struct
import threading

log = logging.getLogger(__name__)

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4

SW_OK = b"\x90\x00"
SW_WRONG_P1P2 = b"\x6a\x81"  # function not supported
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"


def contactless_atr(standard: int = 0x03, card_name: int = 0x0001) -> bytes:
    """The ATR a PC/SC reader builds for a contactless storage card (PC/SC part 3, 3.1.3.2.3): historical
    bytes with the PC/SC RID, the card standard (03 = ISO 14443 A part 3) and card name (0001 = MIFARE 1K)."""
    historical = bytes([0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, standard]) + card_name.to_bytes(2, "big") \
        + bytes(4)
    body = bytes([0x8F, 0x80, 0x01]) + historical  # T0: 15 historical bytes, TD1: T=0 → TD2: T=1
    tck = 0
    for b in body:
        tck ^= b
    return bytes([0x3B]) + body + bytes([tck])


def answer(apdu: bytes, uid: bytes) -> bytes:
    """The card's answer to one command APDU."""
    if len(apdu) < 4:
        return SW_WRONG_P1P2
    cla, ins, p1, _p2 = apdu[:4]
    if cla != 0xFF:
        return SW_CLA_NOT_SUPPORTED
    if ins != 0xCA:
        return SW_INS_NOT_SUPPORTED
    if p1 != 0x00:  # P1 = 01 asks for the ATS historical bytes: a storage card has none
        return SW_WRONG_P1P2
    le = apdu[4] if len(apdu) == 5 else 0
    if le and le < len(uid):
        return bytes([0x6C, len(uid)])  # wrong Le: here is the right one
    return uid + SW_OK


class VirtualCard:
    """A card with ``uid`` that can be put on (:meth:`insert`) and taken off (:meth:`remove`) a vpcd reader
    listening on ``host:port``. Counts the APDUs it answered in :attr:`apdus` (tests look at them)."""

    def __init__(self, uid: str | bytes, port: int, host: str = "127.0.0.1"):
        self.uid = bytes.fromhex(uid) if isinstance(uid, str) else bytes(uid)
        self.host, self.port = host, port
        self.atr = contactless_atr()
        self.apdus: list[bytes] = []
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # --- putting the card on and off the reader -------------------------------------------------------------

    def insert(self, timeout: float = 5.0) -> "VirtualCard":
        if self._sock is not None:
            return self
        self._sock = socket.create_connection((self.host, self.port), timeout=timeout)
        self._sock.settimeout(None)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each answer goes out in one write anyway
        self._thread = threading.Thread(target=self._serve, args=(self._sock,), name="vicc", daemon=True)
        self._thread.start()
        return self

    def remove(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def __enter__(self):
        return self.insert()

    def __exit__(self, *exc):
        self.remove()

    # --- the protocol ----------------------------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                _ack_at_once(sock)
                message = _receive(sock)
                if message is None:
                    return
                reply = self.handle(message)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            return  # removed

    def handle(self, message: bytes) -> bytes | None:
        if len(message) == 1:
            code = message[0]
            if code == CTRL_ATR:
                return self.atr
            if code not in (CTRL_OFF, CTRL_ON, CTRL_RESET):
                log.warning("vpcd sent unknown control code %d", code)
            return None
        self.apdus.append(bytes(message))
        return answer(bytes(message), self.uid)


def _ack_at_once(sock: socket.socket) -> None:
    """vpcd writes each message in two parts (its 2-byte length, then the bytes): with Nagle's algorithm on its
    side the second part waits for our acknowledgement of the first, which Linux delays by up to 40 ms. Asking for
    quick acknowledgements (Linux resets the flag after a while, so before every read) removes that wait from
    every exchange: each presence check of pcscd's polling, the power-on, the GET DATA."""
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _receive(sock: socket.socket) -> bytes | None:
    header = _exactly(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    return _exactly(sock, length) if length else b""


def _exactly(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data
