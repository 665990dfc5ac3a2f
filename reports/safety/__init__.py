"""安全書類 (全建統一様式 and CCUS's AZ forms) built from the portal's data: one module per form.

Unlike the 帳票 of :mod:`reports` (rows of one list), a safety form is a printed sheet in the layout users know
(merged headers, fixed blocks per worker or per company), so each form has its own Excel and PDF layout; they
share the viewer (reports.base.Viewer), the disclosure of worker items (reports.items.Items) and the fonts
(reports.writers.FONT_FAMILY). Each form names the 全建統一様式 number and the form revision it follows
(:data:`REVISION`, 改訂第6版 by default: no 押印欄, no 外国人建設就労者).

Who may produce a form is the seed's table (AZ1: the prime and the first tier; AZ2–AZ4: the prime, every other
company its own branch; AZ5–AZ7: the prime and the subcontractor concerned, an upper one only those below it),
checked by :func:`reports.safety.rules.check_company` on the server for every format.
"""
from __future__ import annotations

REVISION = "改訂第6版（2024年10月）"
