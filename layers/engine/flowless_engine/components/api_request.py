"""API Request: an HTTP call described by URL fields or a cURL command, through the guarded client
(SSRF guard on every hop; redirects followed only when the node says so).

Answers are data, as in Langflow: a non-2xx status or a failed connection is reported in the
result (`status_code`, `error`), not raised. A URL the network guard refuses is an error.
"""

from __future__ import annotations

import base64
import json
import shlex
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.errors import BlockedURLError
from flowless_engine.http import HttpError, HttpTimeout
from flowless_engine.schema import Data, DataFrame, Message

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml", "x-www-form-urlencoded")


def parse_curl(command: str) -> dict[str, Any]:
    """url, method, headers (dict), data (str | None) and follow (bool) of a cURL command line."""
    try:
        args = shlex.split(command.replace("\\\n", " ").replace("\\\r\n", " "))
    except ValueError as exc:
        raise ValueError(f"Error parsing curl: {exc}") from exc
    if args and args[0] == "curl":
        args = args[1:]
    out: dict[str, Any] = {"url": "", "method": None, "headers": {}, "data": None, "follow": False, "get": False}
    i = 0
    while i < len(args):
        arg = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else ""
        if arg in ("-X", "--request"):
            out["method"] = nxt.upper()
            i += 1
        elif arg in ("-H", "--header"):
            name, _, value = nxt.partition(":")
            out["headers"][name.strip()] = value.strip()
            i += 1
        elif arg in ("-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--data-urlencode", "--json"):
            out["data"] = nxt if out["data"] is None else f"{out['data']}&{nxt}"
            if arg == "--json":
                out["headers"].setdefault("Content-Type", "application/json")
            i += 1
        elif arg in ("-u", "--user"):
            out["headers"]["Authorization"] = "Basic " + base64.b64encode(nxt.encode()).decode()
            i += 1
        elif arg in ("-A", "--user-agent"):
            out["headers"]["User-Agent"] = nxt
            i += 1
        elif arg in ("-b", "--cookie"):
            out["headers"]["Cookie"] = nxt
            i += 1
        elif arg == "--url":
            out["url"] = nxt
            i += 1
        elif arg in ("-L", "--location"):
            out["follow"] = True
        elif arg in ("-G", "--get"):
            out["get"] = True
        elif not arg.startswith("-") and not out["url"]:
            out["url"] = arg
        i += 1
    if not out["url"]:
        raise ValueError("Error parsing curl: no URL found")
    out["method"] = out["method"] or ("POST" if out["data"] is not None and not out["get"] else "GET")
    return out


def _key_values(value: Any) -> dict[str, Any]:
    """Headers/body/query: a dict, a Data, a JSON string, or rows of {key, value}."""
    if value is None or value == "":
        return {}
    if isinstance(value, Data):
        value = value.data
    if isinstance(value, DataFrame):
        value = value.rows
    if isinstance(value, Message):
        value = value.plain_text
    if isinstance(value, str):
        try:
            return _key_values(json.loads(value))
        except ValueError:
            return dict(parse_qsl(value)) if "=" in value else {"data": value}
    if isinstance(value, dict):
        if set(value) == {"key", "value"}:
            return {str(value["key"]): value["value"]}
        return dict(value)
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            if isinstance(item, Data):
                if not ({"key", "value"} <= set(item.data)):
                    return dict(item.data)
                item = item.data
            if isinstance(item, dict) and "key" in item and "value" in item and str(item["key"]):
                out[str(item["key"])] = item["value"]
        return out
    return {}


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def add_query(url: str, params: dict[str, Any]) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query)))


class APIRequestComponent(ToolModeMixin, Component):
    type_name = "APIRequest"
    display_name = "API Request"
    description = "Make HTTP requests using URL or cURL commands."
    category = "data_source"
    icon = "Globe"
    inputs = (
        Input("url_input", "URL", "str", "", input_types=("Message",), info="Enter the URL for the request.", input_kind="MessageTextInput"),
        Input("curl_input", "cURL", "str", "", input_types=("Message",), advanced=True, multiline=True,
              info="Paste a curl command to populate the fields.", input_kind="MultilineInput"),
        Input("method", "Method", "str", "GET", options=METHODS, info="The HTTP method to use.", input_kind="DropdownInput"),
        Input("mode", "Mode", "tab", "URL", options=("URL", "cURL"), info="Enable cURL mode to populate fields from a cURL command.", input_kind="TabInput"),
        Input("query_params", "Query Parameters", "other", "", input_types=("Data", "JSON"), advanced=True, info="The query parameters to append to the URL.", input_kind="DataInput"),
        Input("body", "Body", "table", [], input_types=("Data", "JSON"), advanced=True, info="The body to send with the request as a dictionary (for POST, PATCH, PUT).", input_kind="TableInput"),
        Input("headers", "Headers", "table", [{"key": "User-Agent", "value": "Langflow/1.0"}], input_types=("Data", "JSON"), advanced=True,
              info="The headers to send with the request", input_kind="TableInput"),
        Input("timeout", "Timeout", "int", 30, advanced=True, info="The timeout to use for the request.", input_kind="IntInput"),
        Input("follow_redirects", "Follow Redirects", "bool", False, advanced=True, info="Whether to follow HTTP redirects.", input_kind="BoolInput"),
        Input("save_to_file", "Save to File", "bool", False, advanced=True, info="Save the API response to a file.", input_kind="BoolInput"),
        Input("include_httpx_metadata", "Include HTTPx Metadata", "bool", False, advanced=True,
              info="Include properties such as headers, status_code, response_headers, and redirection_history in the output.", input_kind="BoolInput"),
    )
    outputs = (
        Output("data", "make_api_request", ("JSON",), "API Response"),
    )
    tool_fields = {
        "url_input": ("string", "The URL for the request."),
        "curl_input": ("string", "A curl command describing the request (optional)."),
    }

    # ---- the 1.13 output ----------------------------------------------------------------------

    async def make_api_request(self) -> Data | list[Data]:
        if "urls" in self.vertex.fields and "url_input" not in self.vertex.fields:
            return await self.make_requests()  # a 1.0-1.1 export: its `data` output is the list form
        request = self._request()
        result = await self._send(**request)
        self.status = result
        return result

    def _request(self) -> dict[str, Any]:
        url = to_text(self.params.get("url_input")).strip()
        curl = to_text(self.params.get("curl_input")).strip()
        use_curl = bool(curl) and (to_text(self.param("mode", "URL")) == "cURL" or not url)
        request = self._common(curl if use_curl else "")
        return {"url": request.pop("url") or url, **request}

    def _common(self, curl: str) -> dict[str, Any]:
        """Method, headers, body, query parameters and redirects from the node's fields, with what a
        cURL command (when given) says on top; `url` is the command's, else empty."""
        headers = {str(k): to_text(v) for k, v in _key_values(self.params.get("headers")).items()}
        body: Any = {k: _json_value(v) for k, v in _key_values(self.params.get("body")).items()}
        method = to_text(self.param("method", "GET")).upper() or "GET"
        follow = to_bool(self.param("follow_redirects", False))
        url = ""
        if curl:
            parsed = parse_curl(curl)
            url, method, follow = parsed["url"], parsed["method"], follow or parsed["follow"]
            headers = {**headers, **parsed["headers"]}
            if parsed["data"] is not None:
                data = _json_value(parsed["data"])
                body = data if isinstance(data, dict) else {"data": data}
        query = self.params.get("query_params")
        params = dict(parse_qsl(query)) if isinstance(query, str) else _key_values(query)
        return {"url": url, "method": method, "headers": headers, "body": body, "params": params, "follow": follow}

    async def _send(self, *, url: str, method: str, headers: dict[str, str], body: Any, params: dict[str, Any], follow: bool) -> Data:
        if method not in METHODS:
            raise ValueError(f"Unsupported method: {method}")
        url = url.strip()
        if not url:
            raise ValueError("Invalid URL provided: the URL is empty")
        if not url.startswith(("http://", "https://")):
            url = "https://" + url
        parts = urlsplit(url)
        if not parts.hostname or any(c.isspace() for c in url):
            raise ValueError(f"Invalid URL provided: {url}")
        url = add_query(url, params)
        timeout = to_int(self.param("timeout", 30), 30)
        send_body = method != "GET" and body not in (None, {}, "")
        try:
            response = await self.ctx.http.request(
                method, url, headers=headers, json=body if send_body else None, timeout=float(timeout) if timeout > 0 else None,
                raise_for_status=False, follow_redirects=follow)
        except BlockedURLError as exc:
            raise BlockedURLError(f"SSRF Protection: {exc.message}", **exc.details) from exc
        except (HttpError, HttpTimeout) as exc:
            self.log(f"Error making request to {url}")
            return Data(data={"source": url, "headers": headers, "status_code": 500, "error": str(exc)})
        data: dict[str, Any] = {"source": url, "status_code": response.status, "response_headers": dict(response.headers)}
        content_type = response.headers.get("content-type", "").lower()
        binary = bool(content_type) and not any(t in content_type for t in _TEXT_TYPES)
        if to_bool(self.param("save_to_file", False)):
            data["file_path"] = await self._save(response.content, content_type, binary)
        elif binary:
            data["result"] = base64.b64encode(response.content).decode()
            data["result_encoding"] = "base64"
        else:
            try:
                data["result"] = response.json()
            except ValueError:
                data["result"] = response.text
        if to_bool(self.param("include_httpx_metadata", False)):
            data["headers"] = headers
        return Data(data=data)

    async def _save(self, content: bytes, content_type: str, binary: bool) -> str:
        write = getattr(self.ctx.files, "write", None)
        if write is None:
            raise ValueError("Save to File needs a file store; none is configured for this run")
        extension = ".bin" if binary else ".json" if "json" in content_type else ".txt"
        import uuid

        return await write(f"api_response_{uuid.uuid4().hex[:12]}{extension}", content, content_type or "application/octet-stream")

    # ---- Langflow 1.0-1.1's multi-URL form ------------------------------------------------------

    async def make_requests(self) -> list[Data]:
        urls_value = self.params.get("urls")
        urls = [to_text(u).strip() for u in (urls_value if isinstance(urls_value, list) else [urls_value]) if to_text(u).strip()]
        curl = to_text(self.params.get("curl")).strip()
        use_curl = bool(curl) and (to_bool(self.param("use_curl", False)) or not urls)
        request = self._common(curl if use_curl else "")
        curl_url = request.pop("url")
        results = [await self._send(url=u, **request) for u in ([curl_url] if use_curl else urls)]
        self.status = results
        return results
