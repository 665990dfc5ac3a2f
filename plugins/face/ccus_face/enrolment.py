"""顔写真の登録: the employer's 事業者責任者 enrols a photo of one of its workers (one face exactly)."""
from __future__ import annotations

from ccus_face import faces
from portal.devices import EnrolmentScreen


class FaceEnrolmentView(EnrolmentScreen):
    route_base = "/face/enrolment"
    device_type = faces.DEVICE_TYPE
    title = "顔写真の登録"
    field = {"label": "顔写真", "type": "file", "accept": "image/jpeg,image/png",
             "hint": "本人1人だけが正面から写った写真を選んでください。写真そのものは保存せず、暗号化した顔の特徴量だけを保存します。"}

    def enrol_worker(self, worker, form, files) -> str:
        photo = files.get("secret")
        faces.enrol(worker, photo.read() if photo else b"")
        return f"{worker}の顔写真を登録しました。"
