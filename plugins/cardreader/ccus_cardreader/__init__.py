"""IC card readers (ICカードリーダー) for the CCUS portal.

- :mod:`ccus_cardreader.plugin`: the portal side (device type, credential resolution, the enrolment screen);
- :mod:`ccus_cardreader.agent`: the site agent: reads card UIDs over PC/SC, buffers events in a local SQLite
  file and posts them to ``/api/v1/events`` with the device key;
- :mod:`ccus_cardreader.vicc`: a virtual card for vpcd (tests and demonstrations without a reader).

The agent modules import nothing from the portal, so a site PC needs only this package and pyscard.
"""
DEVICE_TYPE = "cardreader"
