"""POST /api/v1/events: the device ingest API. A FAB BaseApi, so the endpoint appears with its schema in the
portal's OpenAPI document (/api/v1/_openapi, Swagger UI at /swagger/v1), which vendors read.

Authenticated by the device's own key (``Authorization: Bearer <key>``), never by a browser session or a user
JWT; exempt from CSRF (no cookie is ever honoured here). Everything else is portal.ingest.
"""
from __future__ import annotations

import collections
import json

from flask import current_app, jsonify, make_response, request
from flask_appbuilder.api import BaseApi, expose

from portal.ingest import batch_json
from portal.devices import posting as posting_rules
from portal.app.db import db
from portal.devices.keys import authenticate_device, bearer
from portal.app.errors import DomainError, read_capped
from portal.devices import device_types
from portal.ingest import REASONS, Limits, ingest_for_app
from portal.devices.refusals import REFUSALS, REFUSED

MAX_BODY_BYTES = 4 * 1024 * 1024  # 1,000 events with their extras fit easily


def read_body(limit: int) -> bytes:
    """The request body, at most ``limit`` bytes however it is sent: a Content-Length above it is refused before
    reading, and a chunked body (no length) is read only up to one byte past it."""
    too_large = DomainError("payload_too_large", f"リクエストが大きすぎます（{limit // (1024 * 1024)}MBまで）。", 413)
    if (request.content_length or 0) > limit:
        raise too_large
    data = read_capped(request.stream, limit)
    if data is None:
        raise too_large
    return data


def _error(status: int, code: str, message: str):
    return make_response(jsonify({"code": code, "message": message}), status)


EVENT_SCHEMA = {
    "type": "object",
    "required": ["event_id", "site_id", "kind", "time"],
    "properties": {
        "event_id": {"type": "string", "maxLength": 100,
                     "description": "The device's own id of this event: the idempotency key (a replay is answered "
                                    "'duplicate' and changes nothing)."},
        "worker_id": {"type": "string", "pattern": "^[0-9]{14}$", "description": "技能者ID (14 digits); or credential"},
        "credential": {"type": "string", "maxLength": 200,
                       "description": "What the device read (card UID, phone number, QR payload …), resolved by the "
                                      "device type's plugin; unresolved ones are stored, not counted."},
        "site_id": {"type": "string", "pattern": "^[0-9]{14}$", "description": "現場ID: the device's own site"},
        "kind": {"type": "string", "enum": ["entry", "exit", "work"], "description": "入場 / 退場 / 就業履歴のみ"},
        "time": {"type": "string", "format": "date-time",
                 "description": "ISO 8601 with its UTC offset, e.g. 2026-05-01T08:01:02+09:00 (naive times are "
                                "rejected; at most 5 minutes ahead, at most 92 days old by default)"},
        "method": {"type": "string", "description": "A device type code (api, cardreader …) or its mark "
                                                    "(API, IC, 顔, 電話, QR); default: the device's type"},
        "extras": {"type": "object", "description": "Optional (temperature …), up to 2 KB of JSON"},
    },
}
RESULT_SCHEMA = {
    "type": "object",
    "required": ["event_id", "result"],
    "additionalProperties": False,
    "properties": {
        "event_id": {"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": True,
                     "description": "The event_id as sent (null when it was neither text nor an integer)"},
        "result": {"type": "string", "enum": ["accepted", "duplicate", "rejected"]},
        "code": {"type": "string", "enum": sorted(set(REASONS) | set(posting_rules.REASONS) | set(REFUSALS) | {REFUSED}),
                 "description": "Reason code of a rejected event; a refused credential's code (forged, expired, "
                                "revoked, replayed, not_alive …) means the event was kept for the audit, not counted"},
        "message": {"type": "string", "description": "Japanese message of a rejected event"},
    },
}
ERROR_SCHEMA = {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}


class EventsApi(BaseApi):
    resource_name = "events"
    openapi_spec_tag = "Entry/exit events (device ingest)"
    csrf_exempt = True  # a device key, not a cookie, authenticates here

    def add_apispec_components(self, api_spec):
        super().add_apispec_components(api_spec)
        for name, schema in (("IngestEvent", EVENT_SCHEMA), ("IngestResult", RESULT_SCHEMA), ("IngestError", ERROR_SCHEMA)):
            if name not in api_spec.components.schemas:
                api_spec.components.schema(name, schema)
        if "DeviceKey" not in api_spec.components.security_schemes:
            api_spec.components.security_scheme("DeviceKey", {"type": "http", "scheme": "bearer",
                                                              "description": "The device's API key (shown once at registration)"})

    @expose("", methods=["POST"])
    def post(self):
        """Post a batch of entry/exit events from one device.
        ---
        post:
          summary: Post entry/exit events (up to 1,000 per request)
          description: >-
            Each event is answered in order: accepted (stored now), duplicate (this device already sent this
            event_id) or rejected with a stable reason code. Events naming an unknown worker, or a worker not
            registered on the site, are stored and shown as not counted. A device posts only for its own site.
            Safe to retry: resend the whole batch after a timeout.
          security:
            - DeviceKey: []
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [events]
                  properties:
                    events:
                      type: array
                      maxItems: 1000
                      items:
                        $ref: '#/components/schemas/IngestEvent'
          responses:
            200:
              description: One result per event, in order
              content:
                application/json:
                  schema:
                    type: object
                    required: [results, accepted, duplicate, rejected]
                    additionalProperties: false
                    properties:
                      results:
                        type: array
                        items:
                          $ref: '#/components/schemas/IngestResult'
                      accepted: {type: integer}
                      duplicate: {type: integer}
                      rejected: {type: integer}
            400:
              description: "malformed_json / invalid_batch: nothing stored"
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/IngestError'
            401:
              description: "invalid_device_key / revoked_device_key"
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/IngestError'
            413:
              description: "batch_too_large (more than 1,000 events) / payload_too_large: nothing stored"
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/IngestError'
            503:
              description: "database_unavailable: the database cannot be reached; retry after Retry-After seconds"
              headers:
                Retry-After:
                  schema: {type: integer}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/IngestError'
          tags:
            - Entry/exit events (device ingest)
        """
        try:
            device = authenticate_device(db.session, bearer(request.headers.get("Authorization")))
            data = read_body(MAX_BODY_BYTES)
            try:
                body = batch_json.loads(data or b"null")
            except ValueError as e:
                raise DomainError("malformed_json", "JSONの形式が正しくありません。", 400) from e
            if not isinstance(body, dict) or not isinstance(body.get("events"), list):
                raise DomainError("invalid_batch", '本文は {"events": [...]} の形式で送信してください。', 400)
            events, refused = body["events"], {}
            if len(events) <= Limits.from_config(current_app.config).max_batch:  # a too large batch: ingest says so
                kind = device_types(current_app.extensions["ccus_plugins"]).get(device.device_type)
                events, refused = posting_rules.split(kind, events)
            outcome = ingest_for_app(current_app, db.session, device, events)
        except DomainError as e:
            db.session.rollback()
            return _error(e.status, e.code, e.message)
        results = posting_rules.merge(len(body["events"]), refused, outcome.results)
        counts = collections.Counter(r["result"] for r in results)
        body = {"results": results, **{k: counts[k] for k in ("accepted", "duplicate", "rejected")}}
        # json.dumps, not jsonify: a device's answer needs no sorted keys (1,000 results are answered often)
        return current_app.response_class(json.dumps(body, ensure_ascii=False), 200, mimetype="application/json")


def register(appbuilder) -> None:
    appbuilder.add_api(EventsApi)
