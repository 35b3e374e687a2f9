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
