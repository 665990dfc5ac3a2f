"""検温 on the site board (issue 14): a temperature the face gate measured below its limit is shown plainly; one at
or above it in red with （要確認）. Both through the gate's own route, on the board an administrator opens."""
from __future__ import annotations

import datetime
import io
import re

from face_helpers import photo

from ccus_face import faces
from portal.devices import roster, work_day
from portal.devices.testing import enrol, register_device, rostered_worker


def _row(page: str, name: str) -> str:
    """The board's table row of one worker (the one with a temperature)."""
    rows = [r for r in re.findall(r"<tr.*?</tr>", page, re.S) if name in r and "℃" in r]
    assert len(rows) == 1, (name, rows)
    return rows[0]


def test_a_normal_temperature_is_plain_and_a_high_one_red(demo_app, encoding_of, client_for):
    site, first = rostered_worker(demo_app)
    with demo_app.test_request_context():
        second = next(w for w in roster(site, work_day(datetime.datetime.now(datetime.timezone.utc))) if w.id != first.id)
    enrol(demo_app, first, faces.DEVICE_TYPE, payload=faces.to_bytes(encoding_of("obama.jpg")))
    enrol(demo_app, second, faces.DEVICE_TYPE, payload=faces.to_bytes(encoding_of("biden_biden.jpg")))
    _device, key = register_device(demo_app, site, faces.DEVICE_TYPE)  # the default limit, 37.5 ℃
    gate = demo_app.test_client()
    for name, event_id, measured in (("obama2.jpg", "t-normal", "36.4"), ("biden_biden2.jpg", "t-high", "37.8")):
        r = gate.post("/api/v1/face/events", headers={"Authorization": f"Bearer {key}"},
                      content_type="multipart/form-data",
                      data={"photo": (io.BytesIO(photo(name)), name), "event_id": event_id, "temperature": measured})
        assert r.status_code == 200 and r.get_json()["recognised"], r.get_json()
    admin, _entry = client_for("admin")
    page = admin.get(f"/site-board/?site={site.id}").get_data(as_text=True)
    normal, high = _row(page, first.name), _row(page, second.name)
    assert "36.4℃" in normal and "要確認" not in normal and "danger" not in normal and "temperature-high" not in normal
    assert "37.8℃（要確認）" in high and 'class="danger temperature-high"' in high

