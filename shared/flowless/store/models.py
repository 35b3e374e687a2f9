"""PynamoDB models: one per DynamoDB table. Repositories are the only users of these classes.

Key design (every partition key begins with the tenant, except the api-key lookup table):
  flows      tenant            | FLOW#<id>, NAME#<name>, ENDPOINT#<endpoint> (uniqueness guards)
  messages   tenant#flow#session | <ISO timestamp>#<message id>; GSIs by_tenant, by_session
  sessions   tenant            | <flow id>#<session id>
  api-keys   sha256(key)       ; GSI by_tenant (tenant | key id)
  variables  tenant            | <name>
  jobs       tenant#job        | JOB (record), EV#<seq> (events or event pages), PLAN, CKPT#<i>, END (build steps)
             tenant#BUILDS#flow | <time>#<job>#<step> (vertex builds for /monitor/builds)

Table names, endpoint and region come from settings at import and can be re-pointed with
`flowless.store.connection.configure`.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from flowless.settings import Settings, get_settings
from flowless.store.connection import connection


def _meta(table: str, settings: Settings | None = None) -> type:
    settings = settings or get_settings()
    return type(
        "Meta",
        (),
        {
            "table_name": settings.table_names()[table],
            "region": settings.region,
            "host": settings.dynamodb_endpoint,
            "billing_mode": PAY_PER_REQUEST_BILLING_MODE,
        },
    )


class TableModel(Model):
    """Base of the table models: they share one botocore client.

    PynamoDB gives each model its own botocore session and client, about 45 ms apiece on a cold
    start; handing every table connection the shared client makes the later ones free.
    """

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        if table.connection._client is None:
            table.connection._client = connection().client
        return table


class FlowItem(TableModel):
    """A flow (sk FLOW#<id>) or a guard item that reserves a name or endpoint for one flow."""

    Meta = _meta("flows")

    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    flow_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    endpoint_name = UnicodeAttribute(null=True)
    data = BinaryAttribute(null=True, legacy_encoding=False)  # zlib-compressed flow JSON
    folder_id = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, null=True)
    icon = UnicodeAttribute(null=True)
    icon_bg_color = UnicodeAttribute(null=True)
    gradient = UnicodeAttribute(null=True)
    is_component = BooleanAttribute(null=True)
    webhook = BooleanAttribute(null=True)
    access_type = UnicodeAttribute(null=True)
    locked = BooleanAttribute(null=True)
    mcp_enabled = BooleanAttribute(null=True)
    flow_type = UnicodeAttribute(null=True)
    action_name = UnicodeAttribute(null=True)
    action_description = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(null=True)
    session_ttl_minutes = NumberAttribute(null=True)


class MessagesByTenant(GlobalSecondaryIndex["MessageItem"]):
    """Every message of a tenant in time order: /monitor listings and lookups by id."""

    class Meta:
        index_name = "by_tenant"
        projection = AllProjection()

    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class MessagesBySession(GlobalSecondaryIndex["MessageItem"]):
    """Messages of one session id across the tenant's flows (history without a flow id)."""

    class Meta:
        index_name = "by_session"
        projection = AllProjection()

    session_key = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class MessageItem(TableModel):
    Meta = _meta("messages")

    pk = UnicodeAttribute(hash_key=True)  # <tenant>#<flow_id>#<session_id>
    sk = UnicodeAttribute(range_key=True)  # <ISO timestamp>#<message id>
    tenant = UnicodeAttribute()
    session_key = UnicodeAttribute()  # <tenant>#<session_id>
    id = UnicodeAttribute()
    flow_id = UnicodeAttribute()
    session_id = UnicodeAttribute()
    sender = UnicodeAttribute(null=True)
    sender_name = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    files = ListAttribute(of=UnicodeAttribute, null=True)
    error = BooleanAttribute(null=True)
    edit = BooleanAttribute(null=True)
    properties = JSONAttribute(null=True)
    category = UnicodeAttribute(null=True)
    content_blocks = JSONAttribute(null=True)
    context_id = UnicodeAttribute(null=True)
    run_id = UnicodeAttribute(null=True)
    timestamp = UTCDateTimeAttribute()
    duration = NumberAttribute(null=True)
    session_metadata = JSONAttribute(null=True)
    expires_at = TTLAttribute()

    by_tenant = MessagesByTenant()
    by_session = MessagesBySession()


class SessionItem(TableModel):
    Meta = _meta("sessions")

    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # <flow_id>#<session_id>
    flow_id = UnicodeAttribute()
    session_id = UnicodeAttribute()
    started_at = UTCDateTimeAttribute()
    last_activity = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class ApiKeysByTenant(GlobalSecondaryIndex["ApiKeyItem"]):
    class Meta:
        index_name = "by_tenant"
        projection = AllProjection()

    tenant = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKeyItem(TableModel):
    """Keyed by the key's SHA-256: a request finds its tenant from the key alone."""

    Meta = _meta("api-keys")

    key_hash = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute()
    tenant = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    prefix = UnicodeAttribute()  # first characters of the key, for masked listings
    scopes = ListAttribute(of=UnicodeAttribute)
    created_at = UTCDateTimeAttribute()
    last_used_at = UTCDateTimeAttribute(null=True)
    total_uses = NumberAttribute(default=0)
    is_active = BooleanAttribute(default=True)
    # User-set expiry, deliberately not a DynamoDB TTL: expired keys stay listed until deleted.
    expires_at = UTCDateTimeAttribute(null=True)

    by_tenant = ApiKeysByTenant()


class VariableItem(TableModel):
    Meta = _meta("variables")

    tenant = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)
    id = UnicodeAttribute()
    type = UnicodeAttribute()
    value = BinaryAttribute(legacy_encoding=False)  # ciphertext from an Encryptor
    default_fields = ListAttribute(of=UnicodeAttribute, null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class JobItem(TableModel):
    """The job record (sk JOB) and its events (sk EV#<seq>) share a partition."""

    Meta = _meta("jobs")

    pk = UnicodeAttribute(hash_key=True)  # <tenant>#<job_id>
    sk = UnicodeAttribute(range_key=True)
    job_id = UnicodeAttribute()
    tenant = UnicodeAttribute()
    status = UnicodeAttribute(null=True)
    flow_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    result = JSONAttribute(null=True)
    event_count = NumberAttribute(null=True)  # last assigned event sequence number
    seq = NumberAttribute(null=True)  # an event's sequence number; a page's last one
    event = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)
    # Builds: a page of events (first_seq..seq), a step's checkpoint, the job's request, as
    # compressed JSON inline or in S3 (payload_key); a step's result for replays (output).
    first_seq = NumberAttribute(null=True)
    payload = BinaryAttribute(null=True, legacy_encoding=False)
    payload_key = UnicodeAttribute(null=True)
    output = JSONAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


# Logical table name (as in Settings.table_names) -> model.
MODELS: dict[str, type[TableModel]] = {
    "flows": FlowItem,
    "messages": MessageItem,
    "sessions": SessionItem,
    "api-keys": ApiKeyItem,
    "variables": VariableItem,
    "jobs": JobItem,
}


def point_models(settings: Settings) -> None:
    """Re-point every model at the tables, endpoint and region of `settings`."""
    names = settings.table_names()
    for table, model in MODELS.items():
        meta: Any = model.Meta
        target = (names[table], settings.region, settings.dynamodb_endpoint)
        if (meta.table_name, meta.region, meta.host) != target:
            meta.table_name, meta.region, meta.host = target
            # PynamoDB caches one connection per model; drop it so the next call uses the new target.
            model._connection = None
