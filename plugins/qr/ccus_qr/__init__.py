"""QR codes (QRコード) for the CCUS portal, two flows:

- a signed worker QR (:mod:`ccus_qr.tokens`): the worker's ID and the time it was issued, signed with the
  installation's key; a gate scanner posts the payload as the credential and ``ccus_resolve_worker`` checks
  signature and age. A forged or expired QR names nobody: the event is kept, not counted;
- a rotating site QR: a kiosk tablet at the gate (device key, no login) shows a QR whose token changes every
  few seconds; the worker's phone camera opens its URL, the worker (logged in as themself) confirms 入場 or
  退場, and the event goes through the core ingest with method QR.
"""
DEVICE_TYPE = "qr"
METHOD = "QR"
