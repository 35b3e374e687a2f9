"""A botocore call (service, operation, parameters, answer) as the IAM requests it takes.

Names in a test's calls are the test's own (tables `flowless-flows`, a moto KMS key id, ...).
`Names` maps each to the stack's resource through the environment variable that carries it
(`FLOWS_TABLE`, `FILES_BUCKET`, `FLOWLESS_KMS_KEY_ID`, ...: the template gives each its `!Ref`),
so every request names the deployed ARN. A name no variable carries stays as it is (and a policy
written for the stack will then deny it, as AWS would).

To cover a new AWS call: if its service is below, nothing to do unless IAM authorises the
operation under another action or resource (then add it to that service's table/function); a new
service needs one function `_<service>(call) -> list[Request]` registered in `MAPPERS`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowless.local.invoke import ACCOUNT_ID

from tests.support.iam.evaluator import Request
from tests.support.iam.stack import REGION, Stack, default_stack

ACCOUNT = ACCOUNT_ID
# Settings fields that carry a resource name, by the environment variable that sets them.
SETTINGS_FIELDS = {"files_bucket": "FILES_BUCKET", "jobs_bucket": "JOBS_BUCKET", "vector_bucket": "VECTOR_BUCKET",
                   "kms_key_id": "FLOWLESS_KMS_KEY_ID", "build_state_machine_arn": "BUILD_STATE_MACHINE_ARN"}


@dataclass
class Call:
    service: str  # botocore's service name (dynamodb, s3, sqs, kms, stepfunctions, lambda, s3vectors)
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None


class Names:
    """Test name -> stack name, from the environment variables the template sets.

    Cheap per call: tables, buckets, the KMS key and the state machine come from the store's and
    the process's settings (a mapping cached per pair of settings objects); the queue from its one
    variable."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.template_values: dict[str, str] = {}  # env var -> the stack's value
        environments = [((stack.template.get("Globals") or {}).get("Function") or {}).get("Environment")]
        environments += [(stack.resources[f].get("Properties") or {}).get("Environment") for f in stack.functions]
        for environment in environments:
            for variable, value in ((environment or {}).get("Variables") or {}).items():
                resolved = stack.resolver.resolve(value)
                if isinstance(resolved, str) and variable not in self.template_values:
                    self.template_values[variable] = resolved
        self._cache: tuple[Any, dict[str, str]] | None = None

    def _add(self, mapping: dict[str, str], test_value: str | None, variable: str) -> None:
        stack_value = self.template_values.get(variable)
        if not test_value or not stack_value:
            return
        mapping[test_value] = stack_value
        short_a, short_b = re.split(r"[/:]", test_value)[-1], re.split(r"[/:]", stack_value)[-1]
        if short_a and short_b and short_a not in mapping:  # the last component of ARNs and URLs too
            mapping[short_a] = short_b

    def settings_mapping(self) -> dict[str, str]:
        from flowless.settings import TABLE_ENV_VARS, get_settings
        from flowless.store.connection import store_settings

        settings = (store_settings(), get_settings())
        key = (id(settings[0]), id(settings[1]))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        mapping: dict[str, str] = {}
        for s in settings:
            for name, physical in s.table_names().items():
                self._add(mapping, physical, TABLE_ENV_VARS[name])
            for field_name, variable in SETTINGS_FIELDS.items():
                self._add(mapping, getattr(s, field_name), variable)
        self._cache = (key, mapping)
        return mapping

    def __call__(self, name: str, *variables: str) -> str:
        """`name` as the stack names it; `variables`: environment variables that may also carry it."""
        mapped = self.settings_mapping().get(name)
        if mapped is not None:
            return mapped
        for variable in variables:
            extra: dict[str, str] = {}
            self._add(extra, os.environ.get(variable), variable)
            if name in extra:
                return extra[name]
        return name


_names: Names | None = None


def names() -> Names:
    global _names
    if _names is None or _names.stack is not default_stack():
        _names = Names(default_stack())
    return _names


def _req(action: str, resource: str, context: dict[str, list[str] | None] | None = None) -> Request:
    keys = tuple((k, tuple(v)) for k, v in (context or {}).items() if v)
    return Request(action, resource, tuple(sorted(keys)))


# --- DynamoDB -------------------------------------------------------------------------------------


def _table_arn(table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _value(attribute: dict[str, Any] | None) -> str | None:
    if not attribute:
        return None
    (kind, value), = attribute.items()
    return str(value)


def _hash_key(table: str, index: str | None = None) -> str | None:
    return default_stack().key_schemas.get(table, {}).get(index)


def _leading(table: str, item: dict[str, Any] | None, index: str | None = None) -> list[str]:
    key = _hash_key(table, index)
    value = _value((item or {}).get(key)) if key else None
    return [value] if value is not None else []


def _query_leading(table: str, params: dict[str, Any]) -> list[str]:
    key = _hash_key(table, params.get("IndexName"))
    expression = params.get("KeyConditionExpression") or ""
    names_ = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for name, placeholder in re.findall(r"([#\w.]+)\s*=\s*(:\w+)", expression):
        if names_.get(name, name) == key:
            value = _value(values.get(placeholder))
            return [value] if value is not None else []
    return []


def _leading_keys(values: list[str]) -> dict[str, list[str]]:
    return {"dynamodb:LeadingKeys": sorted(set(values))}


def _stack_tables(params: dict[str, Any]) -> dict[str, Any]:
    mapped = dict(params)
    if "TableName" in mapped:
        mapped["TableName"] = names()(mapped["TableName"])
    if "RequestItems" in mapped:
        mapped["RequestItems"] = {names()(t): v for t, v in mapped["RequestItems"].items()}
    if "TransactItems" in mapped:
        items = []
        for entry in mapped["TransactItems"]:
            (kind, item), = entry.items()
            items.append({kind: {**item, "TableName": names()(item["TableName"])}})
        mapped["TransactItems"] = items
    return mapped


TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
SINGLE_ITEM = {"GetItem": "Key", "PutItem": "Item", "UpdateItem": "Key", "DeleteItem": "Key"}


def _dynamodb(call: Call) -> list[Request]:
    """Table names are mapped to the stack's first (`_table_arn` and the key schemas take those)."""
    op, p = call.operation, _stack_tables(call.params)
    if op in SINGLE_ITEM:
        table = p["TableName"]
        return [_req(f"dynamodb:{op}", _table_arn(table), _leading_keys(_leading(table, p.get(SINGLE_ITEM[op]))))]
    if op in {"Query", "Scan"}:
        table = p["TableName"]
        leading = _query_leading(table, p) if op == "Query" else []
        return [_req(f"dynamodb:{op}", _table_arn(table, p.get("IndexName")), _leading_keys(leading))]
    if op in {"TransactWriteItems", "TransactGetItems"}:  # authorised item by item, as its own action
        requests = []
        for entry in p["TransactItems"]:
            (kind, item), = entry.items()
            table = item["TableName"]
            requests.append(_req(f"dynamodb:{TRANSACT[kind]}", _table_arn(table), _leading_keys(_leading(table, item.get("Key") or item.get("Item")))))
        return requests
    if op == "BatchWriteItem":
        requests = []
        for table, writes in p["RequestItems"].items():
            leading = [v for w in writes for v in _leading(table, (w.get("PutRequest") or {}).get("Item") or (w.get("DeleteRequest") or {}).get("Key"))]
            requests.append(_req("dynamodb:BatchWriteItem", _table_arn(table), _leading_keys(leading)))
        return requests
    if op == "BatchGetItem":
        return [_req("dynamodb:BatchGetItem", _table_arn(table), _leading_keys([v for k in spec.get("Keys", []) for v in _leading(table, k)]))
                for table, spec in p["RequestItems"].items()]
    if "TableName" in p:
        return [_req(f"dynamodb:{op}", _table_arn(p["TableName"]))]
    return [_req(f"dynamodb:{op}", "*")]


# --- S3 -------------------------------------------------------------------------------------------

S3_OBJECT_ACTIONS = {"GetObject": "GetObject", "HeadObject": "GetObject", "PutObject": "PutObject",
                     "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject", "CompleteMultipartUpload": "PutObject",
                     "AbortMultipartUpload": "AbortMultipartUpload", "DeleteObject": "DeleteObject"}
S3_BUCKET_ACTIONS = {"ListObjectsV2": "ListBucket", "ListObjects": "ListBucket", "HeadBucket": "ListBucket",
                     "CreateBucket": "CreateBucket", "ListMultipartUploads": "ListBucketMultipartUploads"}


def _bucket_arn(bucket: str, key: str | None = None) -> str:
    arn = f"arn:aws:s3:::{names()(bucket)}"
    return arn if key is None else f"{arn}/{key}"


def _s3(call: Call) -> list[Request]:
    op, p = call.operation, call.params
    if op in S3_OBJECT_ACTIONS:
        return [_req(f"s3:{S3_OBJECT_ACTIONS[op]}", _bucket_arn(p["Bucket"], p["Key"]))]
    if op in S3_BUCKET_ACTIONS:
        prefix = [p["Prefix"]] if p.get("Prefix") is not None else None
        return [_req(f"s3:{S3_BUCKET_ACTIONS[op]}", _bucket_arn(p["Bucket"]), {"s3:prefix": prefix})]
    if op == "DeleteObjects":
        return [_req("s3:DeleteObject", _bucket_arn(p["Bucket"], o["Key"])) for o in p["Delete"]["Objects"]]
    if op == "CopyObject":
        source = p["CopySource"]
        bucket, key = (source["Bucket"], source["Key"]) if isinstance(source, dict) else source.lstrip("/").split("/", 1)
        return [_req("s3:GetObject", _bucket_arn(bucket, key)), _req("s3:PutObject", _bucket_arn(p["Bucket"], p["Key"]))]
    return [_req(f"s3:{op}", _bucket_arn(p["Bucket"], p.get("Key")) if "Bucket" in p else "*")]


# --- SQS, KMS, Step Functions, Lambda, S3 Vectors -------------------------------------------------

SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
               "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def queue_arn(url_or_name: str) -> str:
    stack_url = names()(url_or_name, "FLOWLESS_WEBHOOK_QUEUE_URL")
    name = stack_url.rstrip("/").rsplit("/", 1)[-1]
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{names()(name, 'FLOWLESS_WEBHOOK_QUEUE_URL')}"


def _sqs(call: Call) -> list[Request]:
    p = call.params
    target = p.get("QueueUrl") or p.get("QueueName")
    resource = queue_arn(target) if target else "*"
    return [_req(f"sqs:{SQS_ACTIONS.get(call.operation, call.operation)}", resource)]


def _kms(call: Call) -> list[Request]:
    key = call.params.get("KeyId") or (call.response or {}).get("KeyId")
    if not key:
        from flowless.settings import get_settings

        key = get_settings().kms_key_id or "*"
    key = names()(key, "FLOWLESS_KMS_KEY_ID")
    key_id = key.rsplit("/", 1)[-1] if key.startswith("arn:") or key.startswith("alias/") else key
    key_id = names()(key_id, "FLOWLESS_KMS_KEY_ID")
    resource = f"arn:aws:kms:{REGION}:{ACCOUNT}:{'alias/' + key_id if key.startswith('alias/') else 'key/' + key_id}"
    return [_req(f"kms:{call.operation}", resource)]


def _states(call: Call) -> list[Request]:
    p = call.params
    if "stateMachineArn" in p:
        name = names()(p["stateMachineArn"], "BUILD_STATE_MACHINE_ARN").rsplit(":", 1)[-1]
        return [_req(f"states:{call.operation}", f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{names()(name, 'BUILD_STATE_MACHINE_ARN')}")]
    if "executionArn" in p:
        *_, machine, execution = p["executionArn"].split(":")
        machine = names()(machine, "BUILD_STATE_MACHINE_ARN")
        return [_req(f"states:{call.operation}", f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}:{execution}")]
    return [_req(f"states:{call.operation}", "*")]


def _lambda(call: Call) -> list[Request]:
    p = call.params
    action = "lambda:InvokeFunction" if call.operation in {"Invoke", "InvokeAsync", "InvokeWithResponseStream"} else f"lambda:{call.operation}"
    function = p.get("FunctionName", "*")
    if function.startswith("arn:"):
        parts = function.split(":")
        name, qualifier = parts[6], (parts[7] if len(parts) > 7 else None)
    else:
        name, _, qualifier = function.partition(":")
    qualifier = p.get("Qualifier") or qualifier or None
    name = names()(name, 'FLOWLESS_ASYNC_FUNCTION_NAME', 'CUSTOM_CODE_FUNCTION')
    if name in default_stack().resources:  # a setting that holds the function's Ref: its logical id
        name = default_stack().physical_name(name)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return [_req(action, f"{arn}:{qualifier}" if qualifier else arn)]


def _s3vectors(call: Call) -> list[Request]:
    p = call.params
    if p.get("indexArn"):
        bucket, index = re.match(r".*:bucket/([^/]+)/index/(.+)$", p["indexArn"]).groups()
    else:
        bucket = p.get("vectorBucketName") or (p.get("vectorBucketArn") or "").rsplit("/", 1)[-1]
        index = p.get("indexName")
    bucket_arn = f"arn:aws:s3vectors:{REGION}:{ACCOUNT}:bucket/{names()(bucket)}"
    return [_req(f"s3vectors:{call.operation}", f"{bucket_arn}/index/{index}" if index else bucket_arn)]


MAPPERS: dict[str, Callable[[Call], list[Request]]] = {
    "dynamodb": _dynamodb, "s3": _s3, "sqs": _sqs, "kms": _kms, "stepfunctions": _states, "lambda": _lambda, "s3vectors": _s3vectors,
}


def requests_of(call: Call) -> list[Request]:
    mapper = MAPPERS.get(call.service)
    if mapper is None:
        return [_req(f"{call.service}:{call.operation}", "*")]
    return mapper(call)
