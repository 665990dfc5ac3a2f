"""Liveness of a gate capture (なりすまし防止): is the burst of frames a live face, or a flat picture — a printed
photo or a phone screen — held to the camera?

A gate terminal sends a short burst of frames (about a second: 2–10 frames). A picture cannot change its own
shape: moved, tilted or zoomed in front of the camera, its face landmarks (dlib's 68 points, through
face_recognition.face_landmarks) move together by one plane projective transform (a homography; a shift, a scale
or an in-plane rotation is a special case of it). A live face does not: the eyes blink, the mouth moves, and
when the head turns the nose moves against the cheeks (parallax of a 3D face). So each frame's landmarks are
mapped onto the first frame's by the best homography, and what is left over (the residual, relative to the
distance between the eyes) is the life in the burst; so is a blink, which moves too few points to show in the
residual but halves the eyes' opening. Identical frames have none.

Limits (docs/plugins.md and the plugin's README say so to operators): a video of the worker played on a
screen, or a 3D mask, moves like a face and passes; a live worker who stands perfectly still may be refused
(he is asked to blink or turn his head and try again). Depth or infrared cameras, or a challenge the terminal
shows (turn left, blink), are what stops a video; this check stops a still photo.

Plain functions over arrays (numpy), no Flask.
"""
from __future__ import annotations

import dataclasses

MAX_FRAMES = 10
# The smallest residual (RMS of the inner landmarks after the best homography, per inter-ocular distance) that
# counts as life. Measured on the test photos (plugins/face/tests/data) re-detected after shifting, scaling,
# rotating, tilting (perspective) or re-compressing one photo: 0.007–0.022; two photos of one person with another
# expression or pose: 0.068–0.095. The jaw line is left out: dlib places it loosely (up to 0.04 on a flat picture).
DEFAULT_MIN_RESIDUAL = 0.04  # the device setting liveness_residual (ccus_face.faces)
# A blink: the eyes' opening (eye_opening) falls below this share of the burst's widest. A flat picture's varies
# by up to 18 % between frames (the same test photos: landmark jitter and tilt); a closed eye's is under half
# an open one's (about 0.1 against 0.3, Soukupová and Čech 2016). The test data holds no real blink: this one
# is calibrated on the flat pictures' side only.
BLINK = 0.6
_INNER = slice(17, 68)  # eyebrows, nose, eyes, mouth: the points after the 17 of the jaw line
_ORDER = ("chin", "left_eyebrow", "right_eyebrow", "nose_bridge", "nose_tip", "left_eye", "right_eye", "top_lip",
          "bottom_lip")


@dataclasses.dataclass(frozen=True)
class Verdict:
    alive: bool
    residual: float  # the largest residual of a frame against the first (0 for identical frames)
    reason: str  # Japanese: what the check saw, for the audit (the event's extras)


def points(landmarks: dict):
    """One face's landmarks (face_recognition.face_landmarks, model "large") as a (68, 2) array in a fixed order."""
    import numpy as np

    return np.array([p for name in _ORDER for p in landmarks[name]], dtype=float)


def _normalising(pts):
    import numpy as np

    centre = pts.mean(axis=0)
    scale = np.sqrt(2) / max(np.sqrt(((pts - centre) ** 2).sum(axis=1)).mean(), 1e-9)
    return np.array([[scale, 0, -scale * centre[0]], [0, scale, -scale * centre[1]], [0, 0, 1]])


def homography(source, target):
    """The plane projective transform (3×3) that maps ``source`` points best onto ``target`` (normalised DLT)."""
    import numpy as np

    ts, tt = _normalising(source), _normalising(target)
    s = (ts @ np.column_stack([source, np.ones(len(source))]).T).T
    t = (tt @ np.column_stack([target, np.ones(len(target))]).T).T
    rows = []
    for (x, y, _), (u, v, _) in zip(s, t):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _u, _s, vt = np.linalg.svd(np.array(rows))
    h = vt[-1].reshape(3, 3)
    return np.linalg.inv(tt) @ h @ ts


def residual(source, target) -> float:
    """How far ``source`` is from being a flat picture of ``target``: the RMS distance left after the best
    homography, per inter-ocular distance of ``target``."""
    import numpy as np

    eyes = target[36:42].mean(axis=0), target[42:48].mean(axis=0)  # the eyes' points in _ORDER
    ocular = max(float(np.linalg.norm(eyes[0] - eyes[1])), 1e-9)
    source, target = source[_INNER], target[_INNER]
    h = homography(source, target)
    mapped = (h @ np.column_stack([source, np.ones(len(source))]).T).T
    mapped = mapped[:, :2] / mapped[:, 2:3]
    return float(np.sqrt(((mapped - target) ** 2).sum(axis=1).mean()) / ocular)


def eye_opening(pts) -> float:
    """The eyes' aspect ratio (height over width, both eyes averaged): about 0.3 open, under 0.15 closed. A
    picture keeps it, however it is moved (a tilt changes it by a few hundredths); a blink halves it."""
    import numpy as np

    def ratio(eye):
        return (np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])) / (
            2 * max(float(np.linalg.norm(eye[0] - eye[3])), 1e-9))

    return float((ratio(pts[36:42]) + ratio(pts[42:48])) / 2)


def judge(frames: list, min_residual: float = DEFAULT_MIN_RESIDUAL) -> Verdict:
    """The verdict on a burst: ``frames`` are (pixel digest, landmark points) per frame, in capture order. Life
    is a change of shape (the residual) or a blink (the eyes' opening falls below BLINK of the burst's widest)."""
    digests = [d for d, _p in frames]
    if len(set(digests)) < len(digests):
        return Verdict(False, 0.0, "同一の画像が含まれています")
    first = frames[0][1]
    found = max(residual(p, first) for _d, p in frames[1:])
    if found >= min_residual:
        return Verdict(True, found, "顔の形の変化あり")
    openings = [eye_opening(p) for _d, p in frames]
    if min(openings) < BLINK * max(openings):
        return Verdict(True, found, "まばたきあり")
    return Verdict(False, found, "顔の形の変化もまばたきもありません（平面の写真・画面の動き）")
