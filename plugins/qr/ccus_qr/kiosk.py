"""Routes of the rotating site QR:

- ``GET /qr/kiosk/``: the kiosk page for the gate tablet. No login and no secret in the page: the tablet keeps
  its device key in its own storage and sends it only as a Bearer header to
- ``GET /api/v1/qr/site-token``: the current token of the device's site, as JSON with the QR image (SVG) of the
  scan URL and the seconds until it changes;
- ``GET|POST /qr/scan/<device>/<token>`` (FAB view, role 技能者): the page the phone's camera opens; the worker,
  logged in as themself, presses 入場 or 退場;
- ``GET /qr/gate/``: the gate page for a keyboard-wedge QR reader (the common handheld, which types the code and
  Enter): the terminal keeps its device key like the kiosk, posts each worker QR to the core's events API and
  shows a big green or red answer (a refused code says why); scans during a short outage are queued on the
  terminal and sent, once each, when the portal is back.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from ccus_qr import DEVICE_TYPE, images, site_qr, tokens
from ccus_qr.screens import TEMPLATES
from ccus_qr.settings import setting
from portal.devices import DomainError, authenticate, current_worker, device_by_id, request_key

blueprint = Blueprint("ccus_qr_kiosk", __name__, template_folder=TEMPLATES)


@blueprint.get("/qr/kiosk/")
def kiosk():
    return render_template("ccus_qr/kiosk.html")


@blueprint.get("/qr/gate/")
def gate():
    return render_template("ccus_qr/gate.html")


@blueprint.get("/api/v1/qr/site-token")
def site_token():
    device = authenticate(request_key())
    site_qr.check_device(device)
    period = setting(device, "period")
    token, remaining = tokens.current_site_token(tokens.qr_key(current_app.config), device.id, period=period)
    body = {"site_id": device.site.site_id, "site_name": device.site.name}
    url = url_for("ScanView.scan", device_id=device.id, token=token, _external=True)
    response = jsonify(**body, token=token, url=url, svg=images.svg(url), expires_in=round(remaining, 3),
                       period=period)
    response.headers["Cache-Control"] = "no-store"
    return response


class ScanView(BaseView):
    """The phone's page after scanning a site QR (role 技能者; the login proves who is on site)."""

    route_base = "/qr/scan"
    template_folder = TEMPLATES

    def _device(self, device_id: int):
        """The kiosk device named in the URL, checked to be an active QR device (the token is checked before
        anything is recorded)."""
        device = device_by_id(device_id, device_type=DEVICE_TYPE)
        site_qr.check_device(device)
        return device, device.site.name, device.site.site_id

    def _worker(self):
        worker = current_worker()
        if worker is None:
            raise DomainError("not_a_worker", "技能者としてログインしたときだけ記録できます。", 403)
        return worker

    @expose("/<int:device_id>/<token>", methods=["GET", "POST"])
    @has_access
    def scan(self, device_id: int, token: str):
        worker = self._worker()
        device, site_name, _site_code = self._device(device_id)
        key, period = tokens.qr_key(current_app.config), setting(device, "period")
        page = {"title": site_name, "site_name": site_name, "worker": worker}
        try:
            site_qr.scanned_window(key, device, token, period)
        except DomainError as e:
            return self.render_template("ccus_qr/scan.html", expired=e.message, **page), e.status
        if request.method == "GET":
            return self.render_template("ccus_qr/scan.html", **page)
        kind = request.form.get("kind", "")
        try:
            result = site_qr.record_scan(device, worker.worker_id, token, kind, key=key, period=period)
        except DomainError as e:
            return self.render_template("ccus_qr/scan.html", expired=e.message, **page), e.status
        label = site_qr.KINDS[kind]
        if result["result"] == "rejected":
            return self.render_template("ccus_qr/scan.html", expired=result.get("message"), **page), 422
        recorded = (f"{label}を記録しました。" if result["result"] == "accepted"
                    else f"{label}は既に記録されています。")
        return self.render_template("ccus_qr/scan.html", recorded=recorded, **page)
