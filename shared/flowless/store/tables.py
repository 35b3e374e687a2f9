"""Table definitions derived from the models: CloudFormation properties and local creation.

template.yaml declares the same tables; tests/store/test_template_tables.py keeps the two equal.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE

from flowless.store.connection import connection, store_settings
from flowless.store.models import MODELS


def table_definitions() -> dict[str, dict[str, Any]]:
    """Logical table name -> `AWS::DynamoDB::Table` Properties (without TableName)."""
    definitions: dict[str, dict[str, Any]] = {}
    for table, model in MODELS.items():
        schema = model._get_schema()
        properties: dict[str, Any] = {
            "BillingMode": PAY_PER_REQUEST_BILLING_MODE,
            "AttributeDefinitions": sorted(schema["attribute_definitions"], key=lambda d: d["AttributeName"]),
            "KeySchema": _keys(schema["key_schema"]),
        }
        indexes = sorted(schema["global_secondary_indexes"], key=lambda i: i["index_name"])
        if indexes:
            properties["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index["index_name"],
                    "KeySchema": _keys(index["key_schema"]),
                    "Projection": dict(index["projection"]),
                }
                for index in indexes
            ]
        ttl = model._ttl_attribute()
        if ttl is not None:
            properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
        properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        properties["SSESpecification"] = {"SSEEnabled": True}
        definitions[table] = properties
    return definitions


def _keys(elements: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    # DynamoDB wants the HASH key first; PynamoDB lists index keys in attribute-name order.
    keys = [{"AttributeName": e["AttributeName"], "KeyType": e["KeyType"]} for e in elements]
    return sorted(keys, key=lambda e: e["KeyType"] != "HASH")


def create_tables(wait: bool = True) -> list[str]:
    """Create the missing tables from `table_definitions()`, TTL enabled; returns the names created.

    For local stand-ins and tests (deployed tables come from template.yaml): PITR and SSE are left out.
    """
    client = connection().client
    names = store_settings().table_names()
    missing = {
        names[table]: properties
        for table, properties in table_definitions().items()
        if _status(client, names[table]) is None
    }
    for name, properties in missing.items():
        request = {key: properties[key] for key in _CREATE_KEYS if key in properties}
        client.create_table(TableName=name, **request)
    for name, properties in missing.items():
        while wait and _status(client, name) != "ACTIVE":
            time.sleep(0.2)
        if "TimeToLiveSpecification" in properties:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=properties["TimeToLiveSpecification"])
    return list(missing)


def delete_tables() -> None:
    """Drop every table (local stand-ins and tests only)."""
    client = connection().client
    for name in store_settings().table_names().values():
        if _status(client, name) is not None:
            client.delete_table(TableName=name)


_CREATE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")


def _status(client: Any, name: str) -> str | None:
    try:
        return client.describe_table(TableName=name)["Table"]["TableStatus"]
    except client.exceptions.ResourceNotFoundException:
        return None
