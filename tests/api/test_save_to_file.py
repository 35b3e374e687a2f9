"""Write File through the API on moto's S3 and DynamoDB: the file lands in the running tenant's
files (listed and downloadable by /api/v2/files), never another tenant's."""

from __future__ import annotations

import json

from tests.api.conftest import OTHER_TENANT, TENANT, store_flow
from tests.api.test_files import files_bucket, headers  # noqa: F401 - the fixture is used by name
from tests.support.flows import edge, flow, node


def test_save_to_file_writes_into_the_tenants_files(client, api_env, files_bucket):  # noqa: F811
    exported = flow("Saver", [node("ChatInput-c", "ChatInput"), node("SaveToFile-s", "SaveToFile", {"file_name": "notes", "local_format": "json"}),
                              node("ChatOutput-o", "ChatOutput")],
                    [edge("ChatInput-c", "message", "SaveToFile-s", "input"), edge("SaveToFile-s", "message", "ChatOutput-o", "input_value")])
    flow_id = store_flow(TENANT, exported)
    response = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "remember the milk"}, headers=headers(api_env["key"]))
    assert response.status_code == 200, response.text
    text = response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"]
    assert text.startswith("Message saved successfully as 'files/") and text.endswith("/notes.json'")
    path = text.split("'")[1]
    listed = client.get("/api/v2/files", headers=headers(api_env["key"])).json()
    (record,) = listed
    assert record["path"] == path and record["name"] == "notes"
    downloaded = client.get(f"/api/v2/files/{record['id']}", headers=headers(api_env["key"]))
    assert json.loads(downloaded.content) == {"message": "remember the milk"}
    from flowless.store.files import FileObjects, user_file_key

    assert FileObjects(TENANT).exists(user_file_key(TENANT, record["id"], "notes.json"))
    assert client.get("/api/v2/files", headers=headers(api_env["other_key"])).json() == []
    assert client.get(f"/api/v2/files/{record['id']}", headers=headers(api_env["other_key"])).status_code == 404


def test_directory_reads_the_tenants_saved_files(client, api_env, files_bucket):  # noqa: F811
    saver = flow("Saver2", [node("ChatInput-c", "ChatInput"), node("SaveToFile-s", "SaveToFile", {"file_name": "memo", "local_format": "txt"})],
                 [edge("ChatInput-c", "message", "SaveToFile-s", "input")])
    client.post(f"/api/v1/run/{store_flow(TENANT, saver)}", json={"input_value": "kept in S3"}, headers=headers(api_env["key"]))
    reader = flow("Reader", [node("Directory-d", "Directory", {"types": ["txt"]}), node("ParseDataFrame-p", "ParseDataFrame", {"template": "{text}"}),
                             node("ChatOutput-o", "ChatOutput")],
                  [edge("Directory-d", "dataframe", "ParseDataFrame-p", "df"), edge("ParseDataFrame-p", "text", "ChatOutput-o", "input_value")])
    response = client.post(f"/api/v1/run/{store_flow(TENANT, reader)}", json={"input_value": ""}, headers=headers(api_env["key"]))
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "kept in S3"
    # The other tenant's Directory sees none of it.
    other = client.post(f"/api/v1/run/{store_flow(OTHER_TENANT, reader)}", json={"input_value": ""}, headers=headers(api_env["other_key"]))
    assert other.status_code == 200 and other.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == ""
