"""Gmail, Drive and Calendar nodes through the engine against tests/support/google_workspace_server.py
(token JSON and refresh, label filters, MIME bodies, Google's error shape, retries)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default

import pytest

from flowless_engine.errors import ConfigurationError, FileMissingError, ProviderError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.flows import edge, flow, node
from tests.support.google_workspace_server import ACCESS_TOKEN, API_KEY, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, GoogleWorkspaceServer


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleWorkspaceServer]:
    with GoogleWorkspaceServer() as s:
        yield s


@pytest.fixture
def settings(server: GoogleWorkspaceServer) -> EngineSettings:
    server.reset()
    return EngineSettings(allow_loopback=True, service_urls=server.service_urls(), http_retries=2)


async def run_one(type_name: str, values: dict, settings: EngineSettings, output: str | None = None, variables: dict | None = None):
    n = node(f"{type_name}-n1", type_name, values)
    result = await run_flow(flow("t", [n], []), settings=settings, variables=variables or {"GOOGLE": API_KEY})
    return value(result, f"{type_name}-n1", output)


async def test_gmail_loader_sessions_from_labels(server: GoogleWorkspaceServer, settings: EngineSettings) -> None:
    data = await run_one("GmailLoaderComponent", {"json_string": API_KEY, "label_ids": "INBOX", "max_results": "10"}, settings)
    sessions = data.data["text"]
    assert [[m["content"] for m in s["messages"]] for s in sessions] == [
        ["Hello team the report is at Thanks"],  # URL and punctuation cleaned
        ["Can we meet on Friday", "Yes Friday works"],  # the reply with the message it answers, quote cut
    ]  # m3 has no text/plain part: skipped as Langflow does
    assert sessions[0]["messages"][0]["additional_kwargs"] == {"sender": "Ada <ada@example.com>"}
    listing = server.requests[0]
    assert listing.path == "/gmail/v1/users/me/messages" and listing.query == {"labelIds": ["INBOX"], "maxResults": ["10"]}
    assert listing.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert any(r.path == "/gmail/v1/users/me/threads/t2" for r in server.requests)


async def test_gmail_loader_refreshes_a_missing_or_refused_token(server: GoogleWorkspaceServer, settings: EngineSettings) -> None:
    refresh_only = json.dumps({"refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    data = await run_one("GmailLoaderComponent", {"json_string": refresh_only, "label_ids": "SENT", "max_results": "5"}, settings)
    assert [s["messages"][0]["content"] for s in data.data["text"]] == ["Can we meet on Friday"]
    token = server.requests[0]
    assert token.path == "/token" and b"grant_type=refresh_token" in token.body and server.requests[1].headers["authorization"] == "Bearer ya29.refreshed-1"
    server.reset()
    stale = json.dumps({"token": "ya29.stale", "refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    data = await run_one("GmailLoaderComponent", {"json_string": stale, "label_ids": "SENT"}, settings)
    assert len(data.data["text"]) == 1 and [r.path for r in server.requests[:2]] == ["/gmail/v1/users/me/messages", "/token"]


async def test_gmail_loader_errors(server: GoogleWorkspaceServer, settings: EngineSettings) -> None:
    with pytest.raises(ConfigurationError, match=r"Gmail refused the request \(401 authError\): Request had invalid authentication"):
        await run_one("GmailLoaderComponent", {"json_string": json.dumps({"token": "nope"})}, settings)
    with pytest.raises(ConfigurationError, match="Invalid JSON string"):
        await run_one("GmailLoaderComponent", {"json_string": "{not json"}, settings)
    bad_refresh = json.dumps({"refresh_token": "revoked", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    with pytest.raises(ConfigurationError, match="Unable to refresh authentication token"):
        await run_one("GmailLoaderComponent", {"json_string": bad_refresh}, settings)
    with pytest.raises(ConfigurationError, match="Invalid max_results"):
        await run_one("GmailLoaderComponent", {"json_string": API_KEY, "max_results": "ten"}, settings)
    server.fail_next(2, 429)  # rate limited, retried
    assert len((await run_one("GmailLoaderComponent", {"json_string": API_KEY, "label_ids": "SENT"}, settings)).data["text"]) == 1
    server.fail_next(3, 503)  # still failing after the retries: a 502 naming Gmail
    with pytest.raises(ProviderError, match="Gmail failed"):
        await run_one("GmailLoaderComponent", {"json_string": API_KEY}, settings)
    server.delay_next(0.6)
    with pytest.raises(ProviderTimeoutError, match="Gmail did not answer in time"):
        await run_one("GmailLoaderComponent", {"json_string": API_KEY}, replace(settings, http_timeout_s=0.2, http_retries=0))


async def test_gmail_send_raw_mime_from_a_variable(server: GoogleWorkspaceServer, settings: EngineSettings) -> None:
    values = {"connection": "GOOGLE", "to": ["ann@example.com", "bo@example.com"], "cc": "cy@example.com", "subject": "Hi",
              "body": "<b>Hello</b>", "body_is_html": True, "thread_id": "t9", "in_reply_to": "<m0@mail.local>"}
    data = await run_one("GmailSendComponent", values, settings)
    assert data.data == {"id": "s1", "threadId": "t9", "labelIds": ["SENT"]}
    sent = server.sent[0]
    mime = message_from_bytes(base64.urlsafe_b64decode(sent["raw"]))
    assert (mime["To"], mime["Cc"], mime["Subject"], mime["In-Reply-To"], mime["References"]) == (
        "ann@example.com, bo@example.com", "cy@example.com", "Hi", "<m0@mail.local>", "<m0@mail.local>")
    assert mime.get_content_type() == "text/html" and "<b>Hello</b>" in mime.get_payload(decode=True).decode()
    with pytest.raises(ConfigurationError, match="In Reply To must contain"):
        await run_one("GmailSendComponent", {**values, "in_reply_to": ""}, settings)
    with pytest.raises(ConfigurationError, match="Gmail refused the request \\(401"):
        await run_one("GmailSendComponent", values, settings, variables={"GOOGLE": "ya29.wrong"})


async def test_drive_list_rows_and_page(server: GoogleWorkspaceServer, settings: EngineSettings) -> None:
    values = {"connection": "GOOGLE", "page_size": 2, "query": "name contains 'report'"}
    files = await run_one("GoogleDriveListComponent", values, settings, "files", variables={"GOOGLE": ACCESS_TOKEN})
    assert [r["id"] for r in files.rows] == ["f0", "f1"]
    assert server.requests[0].query["q"] == ["name contains 'report'"] and server.requests[0].query["pageSize"] == ["2"] and "files(id, name" in server.requests[0].query["fields"][0]
    n = node("GoogleDriveListComponent-n1", "GoogleDriveListComponent", {**values, "page_token": "2"})
    both = flow("t", [n, node("ChatOutput-a", "ChatOutput"), node("ChatOutput-b", "ChatOutput")],
                [edge(n["id"], "listing", "ChatOutput-a", "input_value", output_types=["Data"]),
                 edge(n["id"], "files", "ChatOutput-b", "input_value", output_types=["DataFrame"])])
    server.reset()
    result = await run_flow(both, settings=settings, variables={"GOOGLE": ACCESS_TOKEN})
    listing = value(result, n["id"], "listing")
    assert len(server.requests) == 1 and [r["id"] for r in value(result, n["id"], "files").rows] == ["f2"]  # one call, two outputs
    assert [f["id"] for f in listing.data["files"]] == ["f2"] and listing.data["next_page_token"] is None
    with pytest.raises(ConfigurationError, match="page_size must be between 1 and 1000"):
        await run_one("GoogleDriveListComponent", {"connection": "GOOGLE", "page_size": 5000}, settings)


async def test_calendar_list_and_create(server: GoogleWorkspaceServer, settings: EngineSettings) -> None:
    frame = await run_one("GoogleCalendarListComponent", {"connection": "GOOGLE", "max_results": 2, "time_min": "2026-12-01T00:00:00Z"}, settings, "events")
    assert [r["summary"] for r in frame.rows] == ["Meeting 0", "Meeting 1"]
    q = server.requests[-1].query
    assert server.requests[-1].path == "/calendar/v3/calendars/primary/events"
    assert (q["singleEvents"], q["orderBy"], q["timeMin"]) == (["true"], ["startTime"], ["2026-12-01T00:00:00Z"])
    with pytest.raises(ConfigurationError, match="requires 'Expand Recurring Events'"):
        await run_one("GoogleCalendarListComponent", {"connection": "GOOGLE", "single_events": False}, settings)
    values = {"connection": "GOOGLE", "calendar_id": "team@group.calendar.google.com", "summary": "Review", "start_time": "2026-12-10T09:00:00",
              "end_time": "2026-12-10T10:00:00", "time_zone": "Europe/Paris", "attendees": "a@example.com, b@example.com", "send_updates": "all"}
    event = await run_one("GoogleCalendarCreateComponent", values, settings)
    assert event.data["status"] == "confirmed" and event.data["summary"] == "Review"
    request = server.requests[-1]
    assert request.path == "/calendar/v3/calendars/team%40group.calendar.google.com/events" and request.query == {"sendUpdates": ["all"]}
    assert request.json()["start"] == {"dateTime": "2026-12-10T09:00:00", "timeZone": "Europe/Paris"}
    assert request.json()["attendees"] == [{"email": "a@example.com"}, {"email": "b@example.com"}]
    all_day = await run_one("GoogleCalendarCreateComponent", {**values, "start_time": "2026-12-11", "end_time": "2026-12-12"}, settings)
    assert all_day.data["start"] == {"date": "2026-12-11"}


async def test_oauth_token_node_needs_a_browser(settings: EngineSettings) -> None:
    with pytest.raises(ConfigurationError, match="needs a browser") as info:
        await run_one("GoogleOAuthToken", {"scopes": "https://www.googleapis.com/auth/gmail.readonly"}, settings)
    assert info.value.details["status"] == 422


async def test_drive_search_outputs(server: GoogleWorkspaceServer, settings: EngineSettings) -> None:
    values = {"token_string": API_KEY, "query_item": "name", "valid_operator": "contains", "search_term": "Plan"}
    assert await run_one("GoogleDriveSearchComponent", values, settings) == ["https://docs.google.com/document/d/doc1/edit"]
    assert server.requests[-1].q == {"q": "name contains 'Plan'", "pageSize": "5", "fields": "nextPageToken, files(id, name, mimeType)"}
    n = node("GoogleDriveSearchComponent-n1", "GoogleDriveSearchComponent", {**values, "query_string": "name contains 'report'"})
    outs = [node("ChatOutput-a", "ChatOutput"), node("ChatOutput-b", "ChatOutput")]
    result = await run_flow(flow("t", [n, *outs], [edge(n["id"], "doc_ids", "ChatOutput-a", "input_value", output_types=["Text"]),
                                                   edge(n["id"], "Data", "ChatOutput-b", "input_value", output_types=["Data"])]),
                            settings=settings, variables={})
    assert value(result, n["id"], "doc_ids") == ["f0", "f1", "f2"]
    assert value(result, n["id"], "Data").data["text"][0] == {"title": "report 0.txt", "url": "https://drive.google.com/file/d/f0/view?usp=drivesdk"}
    with pytest.raises(ConfigurationError, match="Invalid JSON string"):
        await run_one("GoogleDriveSearchComponent", {**values, "token_string": "ya29.bare"}, settings)


async def test_drive_fetch_text_binary_and_export(server: GoogleWorkspaceServer, settings: EngineSettings) -> None:
    text = await run_one("GoogleDriveFetchComponent", {"connection": "GOOGLE", "file_id": "f0"}, settings)
    assert (text.data["content"], text.data["content_encoding"], text.data["exported"]) == ("report 0 body", "utf-8", False)
    assert server.requests[-1].q == {"alt": "media"}
    image = await run_one("GoogleDriveFetchComponent", {"connection": "GOOGLE", "file_id": "img1"}, settings)
    assert base64.b64decode(image.data["content"]) == b"\x89PNG" and image.data["content_encoding"] == "base64"
    doc = await run_one("GoogleDriveFetchComponent", {"connection": "GOOGLE", "file_id": "doc1", "export_mime_type": "text/plain"}, settings)
    assert doc.data["content"] == "Exported Plan as text/plain" and doc.data["exported"] is True
    with pytest.raises(ConfigurationError, match="require an export format"):
        await run_one("GoogleDriveFetchComponent", {"connection": "GOOGLE", "file_id": "doc1"}, settings)
    with pytest.raises(ConfigurationError, match=r"Google Drive refused the request \(404 notFound\): File not found: nope"):
        await run_one("GoogleDriveFetchComponent", {"connection": "GOOGLE", "file_id": "nope"}, settings)


async def test_drive_loader_exports_one_doc(server: GoogleWorkspaceServer, settings: EngineSettings) -> None:
    data = await run_one("GoogleDriveComponent", {"json_string": API_KEY, "document_id": "doc1"}, settings)
    assert data.data["text"] == [{"text": "Exported Plan as text/plain", "source": "https://docs.google.com/document/d/doc1/edit",
                                  "title": "Plan", "when": "2026-12-02T00:00:00Z"}]
    with pytest.raises(ConfigurationError, match="not both"):
        await run_one("GoogleDriveComponent", {"json_string": API_KEY, "connection": "GOOGLE", "document_id": "doc1"}, settings)


async def test_gmail_send_attachments_from_tenant_files(server: GoogleWorkspaceServer, settings: EngineSettings, tmp_path) -> None:
    from flowless_engine.runtime.services import LocalFileStore

    (tmp_path / "notes.txt").write_text("small notes")
    (tmp_path / "big.bin").write_bytes(bytes(range(256)) * (4 * 1024 * 4))  # 4 MB, 5.4 MB in base64: the /upload variant
    values = {"connection": "GOOGLE", "to": "ann@example.com", "subject": "Files", "body": "See attached."}

    async def send(paths: list[str]):
        n = node("GmailSendComponent-n1", "GmailSendComponent", {**values, "attachments": paths})
        return await run_flow(flow("t", [n], []), settings=settings, variables={"GOOGLE": ACCESS_TOKEN}, files=LocalFileStore(tmp_path))

    await send(["notes.txt"])
    mime = message_from_bytes(base64.urlsafe_b64decode(server.sent[-1]["raw"]), policy=default)
    (attachment,) = list(mime.iter_attachments())
    assert attachment.get_filename() == "notes.txt" and attachment.get_payload(decode=True) == b"small notes"
    assert server.requests[-1].path == "/gmail/v1/users/me/messages/send"
    await send(["big.bin"])
    assert server.requests[-1].path == "/upload/gmail/v1/users/me/messages/send" and server.sent[-1]["upload"] is True
    (big,) = list(message_from_bytes(base64.urlsafe_b64decode(server.sent[-1]["raw"]), policy=default).iter_attachments())
    assert big.get_payload(decode=True) == (tmp_path / "big.bin").read_bytes()
    with pytest.raises(FileMissingError, match="File not found: missing.pdf"):
        await send(["missing.pdf"])
