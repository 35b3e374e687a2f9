from __future__ import annotations

import boto3
from flowless.local.dynamodb import start_embedded_dynamodb


def test_embedded_dynamodb_serves_on_loopback(aws_env: None) -> None:
    endpoint, stop = start_embedded_dynamodb()
    try:
        assert endpoint.startswith("http://127.0.0.1:")
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        client.create_table(
            TableName="probe",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert "probe" in client.list_tables()["TableNames"]
    finally:
        stop()


def _table(client, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_a_failed_transaction_leaves_every_item_as_it_was(moto_endpoint: str) -> None:
    """The embedded server's item-by-item rollback: a transaction whose last condition fails
    leaves earlier updates undone and earlier new items absent (all or nothing, as DynamoDB)."""
    import pytest
    from botocore.exceptions import ClientError

    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    _table(client, "rollback")
    client.put_item(TableName="rollback", Item={"id": {"S": "kept"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as failed:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": "rollback", "Item": {"id": {"S": "new"}, "v": {"N": "9"}}}},
            {"Update": {"TableName": "rollback", "Key": {"id": {"S": "kept"}}, "UpdateExpression": "SET v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"ConditionCheck": {"TableName": "rollback", "Key": {"id": {"S": "absent"}}, "ConditionExpression": "attribute_exists(id)"}},
        ])
    assert failed.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert client.get_item(TableName="rollback", Key={"id": {"S": "kept"}})["Item"]["v"] == {"N": "1"}
    assert "Item" not in client.get_item(TableName="rollback", Key={"id": {"S": "new"}})

    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": "rollback", "Item": {"id": {"S": "new"}, "v": {"N": "9"}}}},
        {"Update": {"TableName": "rollback", "Key": {"id": {"S": "kept"}}, "UpdateExpression": "SET v = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}}}},
    ])
    assert client.get_item(TableName="rollback", Key={"id": {"S": "kept"}})["Item"]["v"] == {"N": "2"}
    assert client.get_item(TableName="rollback", Key={"id": {"S": "new"}})["Item"]["v"] == {"N": "9"}


def test_the_servers_own_client_skips_http_and_shares_the_tables(moto_endpoint: str) -> None:
    """answer_in_process: the local server's client reaches the same tables without a socket
    (its endpoint points nowhere), and what it writes, other processes read over HTTP."""
    from flowless.local.dynamodb import answer_in_process

    over_http = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    _table(over_http, "shared-state")
    in_process = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:9", region_name="us-east-1")  # nothing listens
    answer_in_process(in_process, "us-east-1")

    in_process.put_item(TableName="shared-state", Item={"id": {"S": "a"}, "by": {"S": "server"}})
    assert over_http.get_item(TableName="shared-state", Key={"id": {"S": "a"}})["Item"]["by"] == {"S": "server"}
    over_http.put_item(TableName="shared-state", Item={"id": {"S": "b"}, "by": {"S": "cli"}})
    assert in_process.get_item(TableName="shared-state", Key={"id": {"S": "b"}})["Item"]["by"] == {"S": "cli"}


def test_embedded_dynamodb_takes_the_asked_port_when_free_else_another(aws_env: None) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint, stop = start_embedded_dynamodb(port)
    try:
        assert endpoint == f"http://127.0.0.1:{port}"
        fallback, stop_fallback = start_embedded_dynamodb(port)  # busy now: a free port instead, no hang
        try:
            assert fallback.startswith("http://127.0.0.1:") and fallback != endpoint
        finally:
            stop_fallback()
    finally:
        stop()
