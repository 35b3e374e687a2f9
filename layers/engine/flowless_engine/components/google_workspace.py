"""Google Workspace over its REST APIs: Gmail v1 (load messages, send), Drive v3 (list, search,
fetch, the older Docs loader) and Calendar v3 (list, create).

Credentials: the older nodes take the authorized-user OAuth token JSON (`json_string` /
`token_string`); the current ones a `connection` field (Langflow's managed Google connection),
here a tenant variable holding either that JSON or a bare access token. From the JSON the access
token (`token` / `access_token`) is used; when it is missing, expired, or refused (401) and the
JSON holds `refresh_token` + `client_id` + `client_secret`, a new one is fetched from Google's
token endpoint (`POST /token`, grant_type=refresh_token) and the call is made again once.

Endpoints can be replaced per service (`EngineSettings.service_urls`): gmail, google_drive,
google_calendar, google_oauth. Errors as for every hosted API (apis.py): a refused
token is a clear 4xx naming the service, 429/5xx are retried then 502, no answer in time 504.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from typing import Any

from flowless_engine.components.apis import call_api, call_json, google_error, refused_status, service_url
from flowless_engine.components.base import Component, Input, Output, to_int, to_text
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import Data, DataFrame

_MSG = ("Message",)
GMAIL = "https://gmail.googleapis.com"
GOOGLEAPIS = "https://www.googleapis.com"


def _connection_input(required: bool = True) -> Input:
    return Input("connection", "Google Connection", "str", "", required=required, password=True, load_from_db=True,
                 info="A variable holding the Google OAuth token JSON (or an access token).", input_kind="SecretStrInput")


class GoogleCredentials:
    """The access token of a node's token JSON, refreshed when it must be."""

    def __init__(self, component: Component, raw: str, provider: str) -> None:
        self.component, self.provider = component, provider
        raw = raw.strip()
        self.info: dict[str, Any] = {}
        if raw.startswith("{"):
            try:
                self.info = json.loads(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{component.name}: Invalid JSON string (the {provider} OAuth token JSON)", provider=provider) from exc
            if not isinstance(self.info, dict):
                raise ConfigurationError(f"{component.name}: the {provider} OAuth token JSON must be an object", provider=provider)
            self.token = to_text(self.info.get("token") or self.info.get("access_token")).strip()
        else:
            self.token = raw

    @property
    def can_refresh(self) -> bool:
        return all(self.info.get(k) for k in ("refresh_token", "client_id", "client_secret"))

    def _expired(self) -> bool:
        expiry = to_text(self.info.get("expiry")).strip()
        if not expiry:
            return False
        from datetime import datetime, timezone

        try:
            when = datetime.fromisoformat(expiry.replace("Z", "+00:00"))
        except ValueError:
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp() <= time.time() + 30

    async def refresh(self) -> None:
        from urllib.parse import urlencode

        url = service_url(self.component, "google_oauth", "https://oauth2.googleapis.com") + "/token"
        form = urlencode({"grant_type": "refresh_token", "refresh_token": self.info["refresh_token"],
                          "client_id": self.info["client_id"], "client_secret": self.info["client_secret"]})
        try:
            answer = await call_json(self.component, "Google OAuth", "POST", url, content=form,
                                     headers={"content-type": "application/x-www-form-urlencoded"})
        except ConfigurationError as exc:
            raise ConfigurationError(f"{self.component.name}: Authentication error: Unable to refresh authentication token "
                                     f"({exc}). Please reauthenticate.", provider=self.provider, status=401) from exc
        self.token = to_text(answer.get("access_token"))
        if not self.token:
            raise ConfigurationError(f"{self.component.name}: Google's token endpoint answered no access token", provider=self.provider)
        self.info.pop("expiry", None)

    async def access_token(self) -> str:
        if (not self.token or self._expired()) and self.can_refresh:
            await self.refresh()
        if not self.token:
            raise ConfigurationError(f"{self.component.name}: the {self.provider} token JSON holds no access token and cannot be refreshed",
                                     provider=self.provider)
        return self.token

    async def call(self, method: str, url: str, *, raw: bool = False, **kwargs: Any) -> Any:
        """One API call with the Bearer token; a 401 refreshes (when it can) and tries once more."""
        extra = kwargs.pop("headers", None) or {}
        for attempt in (0, 1):
            headers = {**extra, "Authorization": f"Bearer {await self.access_token()}"}
            try:
                if raw:
                    return await call_api(self.component, self.provider, method, url, headers=headers, **kwargs)
                return await call_json(self.component, self.provider, method, url, headers=headers, **kwargs)
            except ConfigurationError as exc:
                status = refused_status(exc)
                if attempt == 0 and status == 401 and self.can_refresh:
                    await self.refresh()
                    continue
                message, reason = google_error(exc)
                if message:
                    raise ConfigurationError(f"{self.component.name}: {self.provider} refused the request "
                                             f"({status} {reason}): {message}", provider=self.provider, status=status) from exc
                raise
        raise AssertionError("unreachable")


async def credentials(component: Component, field: str, provider: str) -> GoogleCredentials:
    raw = await component.secret(field)
    if not raw or not to_text(raw).strip():
        raise ConfigurationError(f"{component.name}: the {provider} credentials ('{field}') are empty", provider=provider)
    return GoogleCredentials(component, to_text(raw), provider)


def _header(message: dict[str, Any], name: str) -> str | None:
    for header in (message.get("payload") or {}).get("headers") or []:
        if to_text(header.get("name")).lower() == name.lower():
            return to_text(header.get("value"))
    return None


def _decode(data: str) -> str:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8", errors="replace")


def plain_text(payload: dict[str, Any]) -> str | None:
    """The first text/plain body of a MIME tree (multipart parts walked depth first)."""
    if payload.get("mimeType") == "text/plain" and (payload.get("body") or {}).get("data"):
        return _decode(payload["body"]["data"])
    for part in payload.get("parts") or []:
        found = plain_text(part)
        if found is not None:
            return found
    return None


_REPLY = re.compile(r"\r?\nOn .+(\r?\n)*wrote:\r?\n")


def clean_email(text: str) -> str:
    """Langflow's cleaning of a loaded email: no URLs, addresses, punctuation or runs of space."""
    text = re.sub(r"http\S+|www\S+|https\S+", "", text, flags=re.MULTILINE)
    text = re.sub(r"\S+@\S+", "", text)
    text = re.sub(r"[^A-Za-z0-9\s]+", " ", text)
    return re.sub(r"\s{2,}", " ", text).strip()


class GmailLoaderComponent(Component):
    """Gmail v1: `users.messages.list` (label filter, maxResults), then `messages.get` per
    message; each becomes a chat session (the message, preceded by the one it replies to when its
    thread holds it), its text the newest part of the text/plain body, cleaned as Langflow does."""

    type_name = "GmailLoaderComponent"
    display_name = "Gmail Loader"
    description = "Loads emails from Gmail using provided credentials."
    category = "google"
    icon = "Google"
    inputs = (
        Input("json_string", "OAuth Token JSON", "str", "", required=True, password=True, input_kind="SecretStrInput",
              info="Authorized-user OAuth token JSON (not a service-account key)."),
        Input("label_ids", "Label IDs", "str", "INBOX,SENT,UNREAD,IMPORTANT", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("max_results", "Max Results", "str", "10", input_types=_MSG, required=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("data", "load_emails", ("JSON",), "JSON"),)

    def _entry(self, message: dict[str, Any]) -> dict[str, Any]:
        sender = _header(message, "From")
        if sender is None:
            raise ValueError("From email not found.")
        text = plain_text(message.get("payload") or {})
        if text is None:
            raise ValueError("No plain text part found in the email.")
        newest = _REPLY.split(text)[0]
        return {"type": "human", "content": clean_email(newest), "additional_kwargs": {"sender": sender}}

    async def load_emails(self) -> Data:
        labels = [x.strip() for x in to_text(self.params.get("label_ids")).split(",") if x.strip()] or ["INBOX"]
        raw_max = to_text(self.params.get("max_results")).strip()
        try:
            limit = int(raw_max) if raw_max else 100
        except ValueError as exc:
            raise ConfigurationError(f"{self.name}: Invalid max_results value: {raw_max}") from exc
        creds = await credentials(self, "json_string", "Gmail")
        base = service_url(self, "gmail", GMAIL) + "/gmail/v1/users/me"
        listing = await creds.call("GET", f"{base}/messages", params={"labelIds": labels, "maxResults": limit})
        sessions: list[dict[str, Any]] = []
        for item in listing.get("messages") or []:
            message = await creds.call("GET", f"{base}/messages/{item['id']}")
            try:
                current = self._entry(message)
                replied_to = _header(message, "In-Reply-To")
                if not replied_to:
                    sessions.append({"messages": [current]})
                    continue
                thread = await creds.call("GET", f"{base}/threads/{message.get('threadId')}")
                original = next((m for m in thread.get("messages") or [] if _header(m, "Message-ID") == replied_to), None)
                if original is None:
                    raise ValueError("Response email not found in the thread.")
                sessions.append({"messages": [self._entry(original), current]})
            except ValueError as exc:  # Langflow logs a message it cannot read and goes on
                self.log(f"Error processing message {item.get('id')}: {exc}")
        self.status = sessions
        return Data(data={"text": sessions})


def _addresses(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    values = raw if isinstance(raw, (list, tuple)) else str(to_text(raw)).split(",")
    return [a.strip() for a in (to_text(v) for v in values) if a.strip()]


class GmailSendComponent(ToolModeMixin, Component):
    """Gmail v1 `users.messages.send`: an RFC 822 message (base64url `raw`), threaded when asked."""

    type_name = "GmailSendComponent"
    display_name = "Gmail: Send Email"
    description = "Sends an email from the connected Google account's mailbox."
    category = "google"
    icon = "Gmail"
    inputs = (
        _connection_input(),
        Input("to", "To", "str", "", input_types=_MSG, required=True, is_list=True, input_kind="MessageTextInput"),
        Input("cc", "Cc", "str", "", input_types=_MSG, is_list=True, advanced=True, input_kind="MessageTextInput"),
        Input("bcc", "Bcc", "str", "", input_types=_MSG, is_list=True, advanced=True, input_kind="MessageTextInput"),
        Input("subject", "Subject", "str", "", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("body", "Body", "str", "", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("body_is_html", "Body Is HTML", "bool", False, input_kind="BoolInput"),
        Input("attachments", "Attachments", "file", "", is_list=True, advanced=True, input_kind="FileInput"),
        Input("thread_id", "Thread ID", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("in_reply_to", "In Reply To", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("references", "References", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("message", "send_email", ("JSON",), "Message"),)
    tool_fields = {"to": ("string", "Recipient addresses, comma separated."), "subject": ("string", "The subject."),
                   "body": ("string", "The body.")}

    SIMPLE_SEND_LIMIT = 5 * 1024 * 1024  # Gmail's JSON `messages.send` body
    UPLOAD_SEND_LIMIT = 35 * 1024 * 1024  # the /upload variant

    def _attachment_paths(self) -> list[str]:
        stored = self.field_spec("attachments").get("file_path") or self.params.get("attachments")
        values = stored if isinstance(stored, (list, tuple)) else [stored]
        return [to_text(v).strip() for v in values if v and to_text(v).strip()]

    async def _mime(self) -> bytes:
        import mimetypes
        from email.message import EmailMessage
        from pathlib import PurePosixPath

        from flowless_engine.errors import FileMissingError

        message = EmailMessage()
        to = _addresses(self.params.get("to"))
        if not to:
            raise ConfigurationError(f"{self.name}: At least one recipient address is required.")
        message["To"] = ", ".join(to)
        for header, field in (("Cc", "cc"), ("Bcc", "bcc")):
            if _addresses(self.params.get(field)):
                message[header] = ", ".join(_addresses(self.params.get(field)))
        message["Subject"] = to_text(self.params.get("subject"))
        in_reply_to = to_text(self.params.get("in_reply_to")).strip()
        references = to_text(self.params.get("references")).strip() or in_reply_to
        if to_text(self.params.get("thread_id")).strip() and not in_reply_to:
            raise ConfigurationError(f"{self.name}: In Reply To must contain the original email's Message-ID when Thread ID is set.")
        if in_reply_to:
            message["In-Reply-To"] = in_reply_to
            message["References"] = references
        body = to_text(self.params.get("body"))
        if self.params.get("body_is_html") in (True, "true", "True"):
            message.set_content(body, subtype="html")
        else:
            message.set_content(body)
        for path in self._attachment_paths():
            try:
                content = await self.ctx.files.read(path)
            except FileNotFoundError as exc:
                raise FileMissingError(f"File not found: {path}", path=path) from exc
            kind = (mimetypes.guess_type(path)[0] or "application/octet-stream").split("/", 1)
            message.add_attachment(content, maintype=kind[0], subtype=kind[1], filename=PurePosixPath(path).name)
        return message.as_bytes()

    async def send_email(self) -> Data:
        mime = await self._mime()
        thread = to_text(self.params.get("thread_id")).strip()
        creds = await credentials(self, "connection", "Gmail")
        base = service_url(self, "gmail", GMAIL)
        if len(mime) > self.UPLOAD_SEND_LIMIT:
            raise ConfigurationError(f"{self.name}: the message is {len(mime)} bytes, above Gmail's 35 MB limit", provider="Gmail", status=413)
        if len(mime) * 4 // 3 + 64 <= self.SIMPLE_SEND_LIMIT:
            body: dict[str, Any] = {"raw": base64.urlsafe_b64encode(mime).decode()}
            if thread:
                body["threadId"] = thread
            sent = await creds.call("POST", base + "/gmail/v1/users/me/messages/send", json_body=body)
        else:  # the /upload variant: metadata and the RFC 822 message as multipart/related
            boundary = "flowless-" + secrets.token_hex(12)
            metadata = json.dumps({"threadId": thread} if thread else {}).encode()
            content = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode() + metadata
                       + f"\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n".encode() + mime + f"\r\n--{boundary}--".encode())
            sent = await creds.call("POST", base + "/upload/gmail/v1/users/me/messages/send", params={"uploadType": "multipart"},
                                    content=content, headers={"content-type": f"multipart/related; boundary={boundary}"})
        data = Data(data=dict(sent))
        self.status = data
        return data


class _Listing(ToolModeMixin, Component):
    """One page of a Google list call offered twice: rows (`DataFrame`) and the page (`Data`)."""

    category = "google"
    items_key = "items"

    async def _page(self) -> dict[str, Any]:
        raise NotImplementedError

    async def _list(self) -> dict[str, Any]:
        cached = getattr(self, "_response", None)
        if cached is None:
            cached = self._response = await self._page()
        return cached

    async def _rows(self) -> DataFrame:
        frame = DataFrame(rows=[dict(x) for x in (await self._list()).get(self.items_key) or []])
        self.status = frame
        return frame


class GoogleDriveListComponent(_Listing):
    """Drive v3 `files.list` (q, pageSize 1..1000, pageToken, orderBy, shared drives, fields)."""

    type_name = "GoogleDriveListComponent"
    display_name = "Drive: List Files (app files)"
    description = "Lists Google Drive files this app created or the user opened with it."
    icon = "GoogleDrive"
    items_key = "files"
    DEFAULT_FIELDS = "nextPageToken, incompleteSearch, files(id, name, mimeType, modifiedTime, size, webViewLink)"
    inputs = (
        _connection_input(),
        Input("query", "Query", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
        Input("page_size", "Page Size", "int", 100, advanced=True, input_kind="IntInput"),
        Input("page_token", "Page Token", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("order_by", "Order By", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("include_shared_drives", "Include Shared Drives", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("fields", "Fields", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("files", "list_files", ("Table",), "Files"), Output("listing", "list_page", ("JSON",), "Listing"))
    tool_fields = {"query": ("string", "Drive query (q) syntax.")}
    tool_outputs = ("files",)

    async def _page(self) -> dict[str, Any]:
        size = to_int(self.param("page_size", 100), 100) or 100
        if not 1 <= size <= 1000:
            raise ConfigurationError(f"{self.name}: page_size must be between 1 and 1000, got {size}")
        params: dict[str, Any] = {"pageSize": size, "fields": to_text(self.params.get("fields")).strip() or self.DEFAULT_FIELDS,
                                  "q": to_text(self.params.get("query")), "pageToken": to_text(self.params.get("page_token")),
                                  "orderBy": to_text(self.params.get("order_by"))}
        if self.params.get("include_shared_drives") in (True, "true", "True"):
            params.update(includeItemsFromAllDrives=True, supportsAllDrives=True)
        creds = await credentials(self, "connection", "Google Drive")
        return await creds.call("GET", service_url(self, "google_drive", GOOGLEAPIS) + "/drive/v3/files", params=params)

    async def list_page(self) -> Data:
        response = await self._list()
        data = Data(data={"files": list(response.get("files") or []), "next_page_token": response.get("nextPageToken"),
                          "incomplete_search": bool(response.get("incompleteSearch", False))})
        self.status = data
        return data

    async def list_files(self) -> DataFrame:
        return await self._rows()


_DRIVE_URLS = {
    "application/vnd.google-apps.document": "https://docs.google.com/document/d/{}/edit",
    "application/vnd.google-apps.spreadsheet": "https://docs.google.com/spreadsheets/d/{}/edit",
    "application/vnd.google-apps.presentation": "https://docs.google.com/presentation/d/{}/edit",
    "application/vnd.google-apps.drawing": "https://docs.google.com/drawings/d/{}/edit",
}


def drive_file_url(file_id: str, mime_type: str) -> str:
    return _DRIVE_URLS.get(mime_type, "https://drive.google.com/file/d/{}/view?usp=drivesdk").format(file_id)


class GoogleDriveSearchComponent(ToolModeMixin, Component):
    """Drive v3 `files.list` with `q = "<item> <operator> '<term>'"` (or the edited query string),
    five files: their URLs, ids, titles, and {title, url} pairs."""

    type_name = "GoogleDriveSearchComponent"
    display_name = "Google Drive Search"
    description = "Searches Google Drive files using provided credentials and query parameters."
    category = "google"
    icon = "Google"
    QUERY_ITEMS = ("name", "fullText", "mimeType", "modifiedTime", "viewedByMeTime", "trashed", "starred", "parents", "owners",
                   "writers", "readers", "sharedWithMe", "createdTime", "properties", "appProperties", "visibility",
                   "shortcutDetails.targetId")
    inputs = (
        Input("token_string", "Token String", "str", "", required=True, password=True, input_kind="SecretStrInput",
              info="JSON string containing OAuth 2.0 access token information"),
        Input("query_item", "Query Item", "str", "", required=True, options=QUERY_ITEMS, input_kind="DropdownInput"),
        Input("valid_operator", "Valid Operator", "str", "", required=True, options=("contains", "=", "!=", "<=", "<", ">", ">=", "in", "has"),
              input_kind="DropdownInput"),
        Input("search_term", "Search Term", "str", "", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("query_string", "Query String", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
    )
    outputs = (
        Output("doc_urls", "search_doc_urls", ("Text",), "Document URLs"),
        Output("doc_ids", "search_doc_ids", ("Text",), "Document IDs"),
        Output("doc_titles", "search_doc_titles", ("Text",), "Document Titles"),
        Output("Data", "search_data", ("JSON",), "JSON"),
    )
    tool_fields = {"search_term": ("string", "The value to search for.")}
    tool_outputs = ("Data",)

    def query(self) -> str:
        edited = to_text(self.params.get("query_string")).strip()
        if edited:
            return edited
        return f"{to_text(self.params.get('query_item'))} {to_text(self.params.get('valid_operator'))} '{to_text(self.params.get('search_term'))}'"

    async def _search(self) -> dict[str, list[Any]]:
        cached = getattr(self, "_found", None)
        if cached is not None:
            return cached
        creds = await credentials(self, "token_string", "Google Drive")
        if not creds.info:
            raise ConfigurationError(f"{self.name}: Invalid JSON string", provider="Google Drive")
        result = await creds.call("GET", service_url(self, "google_drive", GOOGLEAPIS) + "/drive/v3/files",
                                  params={"q": self.query(), "pageSize": 5, "fields": "nextPageToken, files(id, name, mimeType)"})
        found: dict[str, list[Any]] = {"doc_urls": [], "doc_ids": [], "doc_titles": [], "doc_titles_urls": []}
        for item in result.get("files") or []:
            url = drive_file_url(item["id"], to_text(item.get("mimeType")))
            found["doc_urls"].append(url)
            found["doc_ids"].append(item["id"])
            found["doc_titles"].append(item.get("name", ""))
            found["doc_titles_urls"].append({"title": item.get("name", ""), "url": url})
        self._found = found
        return found

    async def search_doc_urls(self) -> list[str]:
        return (await self._search())["doc_urls"]

    async def search_doc_ids(self) -> list[str]:
        return (await self._search())["doc_ids"]

    async def search_doc_titles(self) -> list[str]:
        return (await self._search())["doc_titles"]

    async def search_data(self) -> Data:
        return Data(data={"text": (await self._search())["doc_titles_urls"]})


_TEXT_TYPES = ("application/json", "application/xml", "application/rtf", "application/x-ndjson", "image/svg+xml")
MAX_CONTENT_BYTES = 25 * 1024 * 1024


def _is_text(mime: str | None) -> bool:
    base = (mime or "").split(";", 1)[0].strip().lower()
    return bool(base) and (base.startswith("text/") or base in _TEXT_TYPES)


class GoogleDriveFetchComponent(ToolModeMixin, Component):
    """Drive v3 `files.get` (metadata) then the content: `?alt=media`, or `/export?mimeType=` for
    Google-native documents; text decoded, anything else base64."""

    type_name = "GoogleDriveFetchComponent"
    display_name = "Drive: Fetch File (app files)"
    description = "Fetches one Google Drive file this app created or the user opened with it."
    category = "google"
    icon = "GoogleDrive"
    inputs = (
        _connection_input(),
        Input("file_id", "File ID", "str", "", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("export_mime_type", "Export MIME Type", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
        Input("acknowledge_abuse", "Acknowledge Abuse", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("supports_all_drives", "Supports All Drives", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("file", "fetch_file", ("JSON",), "File"),)
    tool_fields = {"file_id": ("string", "The Drive file id.")}

    async def fetch_file(self) -> Data:
        from urllib.parse import quote

        file_id = to_text(self.params.get("file_id")).strip()
        if not file_id:
            raise ConfigurationError(f"{self.name}: file_id is required.")
        export = to_text(self.params.get("export_mime_type")).strip()
        all_drives = self.params.get("supports_all_drives") in (True, "true", "True")
        base = service_url(self, "google_drive", GOOGLEAPIS) + f"/drive/v3/files/{quote(file_id, safe='')}"
        creds = await credentials(self, "connection", "Google Drive")
        meta_params: dict[str, Any] = {"fields": "id, name, mimeType, size, modifiedTime, webViewLink"}
        if all_drives:
            meta_params["supportsAllDrives"] = True
        metadata = await creds.call("GET", base, params=meta_params)
        if export:
            response = await creds.call("GET", base + "/export", raw=True, params={"mimeType": export})
        else:
            if to_text(metadata.get("mimeType")).startswith("application/vnd.google-apps."):
                raise ConfigurationError(f"{self.name}: Google Workspace files require an export format (set Export MIME Type).",
                                         provider="Google Drive")
            if to_int(metadata.get("size"), 0) > MAX_CONTENT_BYTES:
                raise ConfigurationError(f"{self.name}: the file is larger than {MAX_CONTENT_BYTES} bytes", provider="Google Drive")
            media: dict[str, Any] = {"alt": "media", "supportsAllDrives": True if all_drives else None,
                                     "acknowledgeAbuse": True if self.params.get("acknowledge_abuse") in (True, "true", "True") else None}
            response = await creds.call("GET", base, raw=True, params=media)
        content = response.content
        if len(content) > MAX_CONTENT_BYTES:
            raise ConfigurationError(f"{self.name}: the file is larger than {MAX_CONTENT_BYTES} bytes", provider="Google Drive")
        mime = export or to_text(metadata.get("mimeType"))
        record = dict(metadata)
        if _is_text(mime):
            record.update(content=content.decode("utf-8", errors="replace"), content_encoding="utf-8")
        else:
            record.update(content=base64.b64encode(content).decode("ascii"), content_encoding="base64")
        record.update(content_mime_type=mime, exported=bool(export))
        data = Data(data=record)
        self.status = data
        return data


class GoogleDriveComponent(Component):
    """The older Drive loader: one Google Doc exported as text/plain (`files.get` for its name
    and modified time, `files.export`), from a connection variable or the pasted token JSON."""

    type_name = "GoogleDriveComponent"
    display_name = "Google Drive Loader"
    description = "Loads documents from Google Drive using a managed connection or provided credentials."
    category = "google"
    icon = "Google"
    inputs = (
        _connection_input(required=False),
        Input("json_string", "OAuth Token JSON", "str", "", password=True, input_kind="SecretStrInput",
              info="Authorized-user OAuth token JSON (not a service-account key)."),
        Input("document_id", "Document ID", "str", "", input_types=_MSG, required=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("docs", "load_documents", ("JSON",), "Loaded Documents"),)

    async def load_documents(self) -> Data:
        from urllib.parse import quote

        document_id = to_text(self.params.get("document_id")).strip()
        if not document_id:
            raise ConfigurationError(f"{self.name}: Document ID is required.")
        connection = to_text(self.params.get("connection")).strip()
        pasted = to_text(self.params.get("json_string")).strip()
        if connection and pasted:
            raise ConfigurationError(f"{self.name}: Set either a Google connection or a token JSON string, not both.")
        if not connection and not pasted:
            raise ConfigurationError(f"{self.name}: the Google Drive Loader needs either a Google connection or a token JSON string.")
        creds = await credentials(self, "connection" if connection else "json_string", "Google Drive")
        base = service_url(self, "google_drive", GOOGLEAPIS) + f"/drive/v3/files/{quote(document_id, safe='')}"
        metadata = await creds.call("GET", base, params={"supportsAllDrives": True, "fields": "modifiedTime,name"})
        text = (await creds.call("GET", base + "/export", raw=True, params={"mimeType": "text/plain"})).text
        doc = {"text": text, "source": f"https://docs.google.com/document/d/{document_id}/edit",
               "title": metadata.get("name", ""), "when": metadata.get("modifiedTime", "")}
        self.status = [doc]
        return Data(data={"text": [doc]})


class GoogleCalendarListComponent(_Listing):
    """Calendar v3 `events.list` (timeMin/timeMax, q, maxResults 1..2500, singleEvents, orderBy)."""

    type_name = "GoogleCalendarListComponent"
    display_name = "Calendar: List Events"
    description = "Lists events from a Google Calendar."
    icon = "GoogleCalendar"
    inputs = (
        _connection_input(),
        Input("calendar_id", "Calendar ID", "str", "primary", input_types=_MSG, input_kind="MessageTextInput"),
        Input("time_min", "Time Min", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
        Input("time_max", "Time Max", "str", "", input_types=_MSG, input_kind="MessageTextInput"),
        Input("query", "Query", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("max_results", "Max Results", "int", 250, advanced=True, input_kind="IntInput"),
        Input("single_events", "Expand Recurring Events", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("order_by", "Order By", "str", "startTime", options=("startTime", "updated"), advanced=True, input_kind="DropdownInput"),
        Input("page_token", "Page Token", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("events", "list_events", ("Table",), "Events"), Output("listing", "list_page", ("JSON",), "Listing"))
    tool_fields = {"time_min": ("string", "RFC 3339 lower bound."), "time_max": ("string", "RFC 3339 upper bound."),
                   "query": ("string", "Free-text search.")}
    tool_outputs = ("events",)

    async def _page(self) -> dict[str, Any]:
        limit = to_int(self.param("max_results", 250), 250) or 250
        if not 1 <= limit <= 2500:
            raise ConfigurationError(f"{self.name}: max_results must be between 1 and 2500, got {limit}")
        single = self.params.get("single_events", True) in (True, "true", "True")
        order = to_text(self.params.get("order_by")).strip() or "startTime"
        if order == "startTime" and not single:
            raise ConfigurationError(f"{self.name}: Ordering by startTime requires 'Expand Recurring Events' to be enabled.")
        from urllib.parse import quote

        calendar = quote(to_text(self.params.get("calendar_id")).strip() or "primary", safe="")
        params = {"maxResults": limit, "singleEvents": single, "orderBy": order, "timeMin": to_text(self.params.get("time_min")),
                  "timeMax": to_text(self.params.get("time_max")), "q": to_text(self.params.get("query")),
                  "pageToken": to_text(self.params.get("page_token"))}
        creds = await credentials(self, "connection", "Google Calendar")
        return await creds.call("GET", service_url(self, "google_calendar", GOOGLEAPIS) + f"/calendar/v3/calendars/{calendar}/events", params=params)

    async def list_page(self) -> Data:
        response = await self._list()
        data = Data(data={"events": list(response.get("items") or []), "next_page_token": response.get("nextPageToken"),
                          "next_sync_token": response.get("nextSyncToken"), "time_zone": response.get("timeZone")})
        self.status = data
        return data

    async def list_events(self) -> DataFrame:
        return await self._rows()


def _event_time(value: str, zone: str) -> dict[str, str]:
    stamp = value.strip()
    out = {"date": stamp} if re.fullmatch(r"\d{4}-\d{2}-\d{2}", stamp) else {"dateTime": stamp}
    if zone and "dateTime" in out:
        out["timeZone"] = zone
    return out


class GoogleCalendarCreateComponent(ToolModeMixin, Component):
    """Calendar v3 `events.insert` (sendUpdates, conferenceDataVersion): the created event."""

    type_name = "GoogleCalendarCreateComponent"
    display_name = "Calendar: Create Event"
    description = "Creates an event on a Google Calendar."
    category = "google"
    icon = "GoogleCalendar"
    inputs = (
        _connection_input(),
        Input("calendar_id", "Calendar ID", "str", "primary", input_types=_MSG, input_kind="MessageTextInput"),
        Input("summary", "Title", "str", "", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("start_time", "Start", "str", "", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("end_time", "End", "str", "", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("event_description", "Description", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("time_zone", "Time Zone", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("location", "Location", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("attendees", "Attendees", "str", "", input_types=_MSG, is_list=True, advanced=True, input_kind="MessageTextInput"),
        Input("send_updates", "Send Updates", "str", "none", options=("none", "all", "externalOnly"), advanced=True, input_kind="DropdownInput"),
        Input("recurrence", "Recurrence", "str", "", input_types=_MSG, is_list=True, advanced=True, input_kind="MessageTextInput"),
        Input("conference_data_version", "Conference Data Version", "int", 0, advanced=True, input_kind="IntInput"),
    )
    outputs = (Output("event", "create_event", ("JSON",), "Event"),)
    tool_fields = {"summary": ("string", "The event title."), "start_time": ("string", "RFC 3339 start (or a date)."),
                   "end_time": ("string", "RFC 3339 end (or a date).")}

    def _body(self) -> dict[str, Any]:
        start, end = to_text(self.params.get("start_time")).strip(), to_text(self.params.get("end_time")).strip()
        if not start or not end:
            raise ConfigurationError(f"{self.name}: Start and End are required.")
        zone = to_text(self.params.get("time_zone")).strip()
        body: dict[str, Any] = {"summary": to_text(self.params.get("summary")), "start": _event_time(start, zone), "end": _event_time(end, zone)}
        for key, field in (("description", "event_description"), ("location", "location")):
            if to_text(self.params.get(field)).strip():
                body[key] = to_text(self.params.get(field))
        if _addresses(self.params.get("attendees")):
            body["attendees"] = [{"email": a} for a in _addresses(self.params.get("attendees"))]
        recurrence = self.params.get("recurrence")
        rules = [to_text(r).strip() for r in (recurrence if isinstance(recurrence, (list, tuple)) else [recurrence]) if to_text(r).strip()]
        if rules:
            body["recurrence"] = rules
        return body

    async def create_event(self) -> Data:
        from urllib.parse import quote

        body = self._body()
        calendar = quote(to_text(self.params.get("calendar_id")).strip() or "primary", safe="")
        params: dict[str, Any] = {"sendUpdates": to_text(self.params.get("send_updates")).strip() or "none"}
        version = to_int(self.param("conference_data_version", 0), 0)
        if version:
            params["conferenceDataVersion"] = version
        creds = await credentials(self, "connection", "Google Calendar")
        event = await creds.call("POST", service_url(self, "google_calendar", GOOGLEAPIS) + f"/calendar/v3/calendars/{calendar}/events",
                                 params=params, json_body=body)
        data = Data(data=dict(event))
        self.status = data
        return data


class GoogleOAuthToken(Component):
    """Langflow's node runs Google's interactive browser consent on the server: nothing a
    serverless run can do. It answers 422 naming the way to supply a token instead."""

    type_name = "GoogleOAuthToken"
    display_name = "Google OAuth Token"
    description = "Generates a JSON string with your Google OAuth token."
    category = "google"
    icon = "Google"
    inputs = (
        Input("scopes", "Scopes", "str", "", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("oauth_credentials", "Credentials File", "file", "", required=True, input_kind="FileInput"),
    )
    outputs = (Output("output", "build_output", ("JSON",), "Output"),)

    async def build_output(self) -> Data:
        raise ConfigurationError(f"{self.name}: Google's OAuth consent needs a browser, which a Flowless run cannot open; "
                                 "store the authorized-user token JSON in a variable and use it in the Google nodes instead",
                                 provider="Google OAuth", status=422)
