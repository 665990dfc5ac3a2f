"""QR screens for people (logged in through the portal):

- 私のQRコード (技能者): the worker's own signed QR, to show on the phone at a gate scanner;
- QRコードの印刷 (事業者責任者): the signed QR of one of the employer's own workers, to print (a helmet sticker
  for a worker without a smartphone). Another employer's worker is answered like an unknown one.

Both screens can revoke (失効) the worker's codes issued so far (ccus_qr.revocation): a lost phone or sticker.
"""
from __future__ import annotations

import datetime
import time
from pathlib import Path

from flask import Response, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ccus_qr import images, revocation, tokens
from portal.devices import DomainError, WorkerRef, current_worker, enrollable_worker

REVOKED = "これまでに発行したQRコードを失効しました。ゲートでは使えません。新しいQRコードを表示しています。"

JST = datetime.timezone(datetime.timedelta(hours=9))
TEMPLATES = str(Path(__file__).parent / "templates")


def worker_qr(worker_id: str, now: float | None = None) -> dict:
    """The payload and what the screen says about it (issued, valid until with the default age)."""
    key = tokens.qr_key(current_app.config)
    issued = revocation.next_issue_time(worker_id, time.time() if now is None else now)
    payload = tokens.sign_worker(key, worker_id, issued=issued)
    until = issued + tokens.DEFAULT_MAX_AGE_DAYS * 86400
    stamp = lambda t: datetime.datetime.fromtimestamp(t, JST).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    return {"payload": payload, "issued": stamp(issued), "valid_until": stamp(until)}


class MyQrView(BaseView):
    route_base = "/qr/mine"
    default_view = "mine"
    template_folder = TEMPLATES

    def _own(self) -> WorkerRef:
        worker = current_worker()
        if worker is None:
            raise DomainError("not_a_worker", "技能者としてログインしたときだけ表示できます。", 403)
        return worker

    @expose("/")
    @has_access
    def mine(self):
        worker = self._own()
        info = worker_qr(worker.worker_id)
        return self.render_template("ccus_qr/worker_qr.html", title="私のQRコード", worker=worker,
                                    svg=images.svg(info["payload"]), revoke_url=url_for("MyQrView.revoke"), **info)

    @expose("/revoke", methods=["POST"])
    @has_access
    def revoke(self):
        worker, session = self._own(), self.appbuilder.session
        revocation.revoke(worker)  # the logged-in worker's own codes only (portal.devices.void_issued)
        session.commit()
        flash(REVOKED, "success")
        return redirect(url_for("MyQrView.mine"))


class PrintQrView(BaseView):
    route_base = "/qr/print"
    default_view = "print"
    template_folder = TEMPLATES

    @expose("/")
    @has_access
    def print(self):
        code = request.args.get("worker_id")
        if not code:
            return self.render_template("ccus_qr/print_form.html", title="QRコードの印刷")
        worker = enrollable_worker(code)
        info = worker_qr(worker.worker_id)
        return self.render_template("ccus_qr/worker_qr.html", title="QRコードの印刷", worker=worker,
                                    svg=images.svg(info["payload"]), printable=True,
                                    revoke_url=url_for("PrintQrView.revoke", worker_id=worker.worker_id), **info)

    @expose("/revoke", methods=["POST"])
    @has_access
    def revoke(self):
        session = self.appbuilder.session
        worker = enrollable_worker(request.args.get("worker_id"))  # the employer's own worker, in its scope
        revocation.revoke(worker)
        session.commit()
        flash(REVOKED, "success")
        return redirect(url_for("PrintQrView.print", worker_id=worker.worker_id))

    @expose("/qr.png")
    @has_access
    def print_png(self):
        worker = enrollable_worker(request.args.get("worker_id"))
        return Response(images.png(worker_qr(worker.worker_id)["payload"]), mimetype="image/png",
                        headers={"Cache-Control": "no-store"})
