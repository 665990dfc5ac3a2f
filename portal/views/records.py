"""Read-only screens over what devices and people recorded: work histories, entry/exit events, devices and
the audit log. Histories and events change only through portal.ingest and portal.history.histories."""
from __future__ import annotations

from portal.devices import settings as device_settings
from portal.models import AuditLog, Device, EntryExitEvent, WorkHistory
from portal.people.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, ROLE_WORKER as W
from portal.people.security import READ
from portal.views.base import PortalInterface, add, add_api, model_api, model_view

HISTORY = "就業履歴"
ADMIN = "管理"

WorkHistoryView = model_view(
    WorkHistory,
    list_columns=["work_date", "worker", "site", "employer", "trade", "position", "methods", "counted",
                  "not_counted_label", "valid_for_evaluation"],
    show_columns=["work_date", "worker", "site", "employer", "trade", "position", "work_content", "hazardous_work",
                  "qualifications", "methods", "first_entry_at", "last_exit_at", "counted", "not_counted_label",
                  "valid_for_evaluation", "invalid_reason", "updated_at"],
    search_columns=["work_date", "worker", "site", "employer", "counted", "not_counted_reason", "valid_for_evaluation"],
    base_order=("work_date", "desc"), base_permissions=["can_list", "can_show"],
)
EntryExitEventView = model_view(
    EntryExitEvent,
    list_columns=["occurred_at", "site", "worker", "worker_code", "kind", "method", "device", "refusal_label"],
    show_columns=["occurred_at", "work_date", "site", "worker", "worker_code", "kind", "method", "device", "refusal_label",
                  "device_event_id", "extras", "received_at"],
    search_columns=["work_date", "site", "worker", "kind", "method"],
    base_order=("occurred_at", "desc"), base_permissions=["can_list", "can_show"],
)
class DeviceInterface(PortalInterface):
    """Devices as lists and detail pages print them: the settings as one line, secrets (an auth token) masked."""

    def get_values(self, lst, list_columns):
        items = list(lst)
        for item, row in zip(items, super().get_values(items, list_columns)):
            yield {**row, "settings": device_settings.shown(item.settings, item.device_type)} if "settings" in row else row

    def get_values_item(self, item, show_columns):
        return [device_settings.shown(item.settings, item.device_type) if c == "settings" else v
                for c, v in zip(show_columns, super().get_values_item(item, show_columns))]


DEVICE_COLUMNS = ["site", "device_type", "name", "key_prefix", "created_at", "last_seen_at", "revoked_at"]
DeviceView = model_view(
    Device, list_columns=DEVICE_COLUMNS, show_columns=[*DEVICE_COLUMNS[:4], "settings", *DEVICE_COLUMNS[4:]],
    search_columns=["site", "device_type", "name"],  # never the key hash
    base_permissions=["can_list", "can_show"], datamodel=DeviceInterface(Device),
)


def _mask_settings(rows) -> None:
    """The API's device rows with their secret settings masked, as on the screens (portal.devices.settings)."""
    secrets = device_settings.all_secret_names()
    for row in rows:
        if isinstance(row.get("settings"), dict):
            row["settings"] = device_settings.masked(row["settings"], secrets)
AuditLogView = model_view(
    AuditLog, list_columns=["at", "username", "action", "object_type", "object_id", "worker", "remote_addr"],
    search_columns=["at", "username", "action", "object_type", "worker_id"],
    base_order=("at", "desc"), base_permissions=["can_list", "can_show"],
    label_columns={"worker": "技能者"},
)
# AuditLog has no relationship to Worker on purpose (a deleted worker keeps its log); show the id.
AuditLogView.list_columns = ["at", "username", "action", "object_type", "object_id", "worker_id", "remote_addr"]

SCREENS = [
    (WorkHistoryView, "就業履歴一覧", HISTORY, {E: READ, M: READ, W: READ}),
    (EntryExitEventView, "入退場記録", HISTORY, {E: READ, M: READ, W: READ}),
    (DeviceView, "入退場デバイス", ADMIN, {E: READ, M: READ}),
    (AuditLogView, "監査ログ", ADMIN, {}),  # administrators; the worker reads its 390_閲覧記録 (no login IDs, no IPs)
]
APIS = [
    (model_api(WorkHistory, "work-histories", base_permissions=["can_get", "can_info"]), {E: READ, M: READ, W: READ}),
    (model_api(Device, "devices", list_columns=["id", "site_id", "device_type", "name", "key_prefix", "settings",
                                                "created_at", "last_seen_at", "revoked_at"],
               show_columns=["id", "site_id", "device_type", "name", "key_prefix", "settings", "created_at",
                             "last_seen_at", "revoked_at"],  # never the key hash
               base_permissions=["can_get", "can_info"],
               pre_get=lambda self, data: _mask_settings([data["result"]]),
               pre_get_list=lambda self, data: _mask_settings(data["result"])), {E: READ, M: READ}),
]


def register(appbuilder) -> None:
    for view, title, category, grants in SCREENS:
        add(appbuilder, view, title, category, grants)
    for api, grants in APIS:
        add_api(appbuilder, api, grants)
