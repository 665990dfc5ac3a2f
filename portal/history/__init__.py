"""就業履歴: one row per worker, site and work day derived from the stored events (``histories``), and what changes
it: shifts across midnight, roster changes, corrections, the per worker-day locks."""
