"""Fixtures of the face plugin's tests: the test photos, and their encodings computed once per session
(dlib takes about 0.3 s a photo on this machine)."""
from __future__ import annotations

import pytest

from ccus_face import faces, roster_templates
from portal.devices.testing import enrol

from face_helpers import photo  # noqa: E402  (the tests folder is on sys.path)

_ENCODINGS: dict = {}


@pytest.fixture(scope="session")
def encoding_of():
    def get(name: str):
        if name not in _ENCODINGS:
            _ENCODINGS[name] = faces.encode_face(photo(name))
        return _ENCODINGS[name]

    return get


@pytest.fixture(autouse=True)
def fresh_template_cache():
    """Each test starts with no decrypted templates cached: the tests share one app, and a database refilled to
    the same state gives the same cache key (same roster version, template count and latest id)."""
    roster_templates.clear()


@pytest.fixture
def enrol_face(demo_app, encoding_of):
    """``enrol_face(worker_code, photo_name)``: store a face template directly (no screen), from the cache."""
    def enrol_face(worker_code: str, name: str):
        enrol(demo_app, worker_code, faces.DEVICE_TYPE, payload=faces.to_bytes(encoding_of(name)), label="顔写真")

    return enrol_face
