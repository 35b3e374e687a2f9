"""`flowless` subcommands that talk to a running server through `flowless.Client`:
`flows push|pull|ls|rm`, `keys create|ls|revoke --url`, `chat`, `snippet`, `export-python`.

Registered by `flowless.cli.build_parser`. Imports stay inside the handlers so `flowless --help`
and the server commands never load httpx.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import IO, Any

DEFAULT_URL = "http://127.0.0.1:7860"


class CommandError(Exception):
    """A runtime failure worth one line on stderr (exit code 1)."""


def connection_options() -> argparse.ArgumentParser:
    """--url, --api-key, --langflow-id, --timeout: shared by every command that calls a server."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("server")
    group.add_argument("--url", default=None, help=f"API base URL (default: $FLOWLESS_URL or {DEFAULT_URL}).")
    group.add_argument("--api-key", default=None, help="API key (default: $FLOWLESS_API_KEY).")
    group.add_argument(
        "--langflow-id", default=None,
        help="Call the hosted-Langflow form /lf/<id>/api/v1/... with the key as a Bearer token (default: $FLOWLESS_LANGFLOW_ID).",
    )
    group.add_argument("--timeout", type=float, default=120.0, help="Seconds to wait for an answer (default 120).")
    return parent


def make_client(args: argparse.Namespace) -> Any:
    from flowless.client import Client

    return Client(
        args.url or os.environ.get("FLOWLESS_URL") or DEFAULT_URL,
        api_key=args.api_key or os.environ.get("FLOWLESS_API_KEY"),
        langflow_id=args.langflow_id or os.environ.get("FLOWLESS_LANGFLOW_ID") or None,
        timeout=args.timeout,
        retries=2,
        backoff=0.25,  # a server that is down is reported within a second
    )


def base_url(args: argparse.Namespace) -> str:
    return (args.url or os.environ.get("FLOWLESS_URL") or DEFAULT_URL).rstrip("/")


def langflow_id(args: argparse.Namespace) -> str | None:
    return args.langflow_id or os.environ.get("FLOWLESS_LANGFLOW_ID") or None


def parse_tweaks(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"--tweaks is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CommandError("--tweaks must be a JSON object: {\"<node id>\": {\"<field>\": value}}")
    return value


# --------------------------------------------------------------------------- progress


class Progress:
    """A one-line text bar on stderr (`[#####.....] 3/10 name`); plain lines when not a terminal."""

    def __init__(self, total: int, stream: IO[str] | None = None, width: int = 24) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()

    def advance(self, label: str) -> None:
        self.done += 1
        if self.tty:
            filled = self.width * self.done // max(1, self.total)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {label}\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A message that must stay visible (a failure): on its own line, above the bar."""
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


# --------------------------------------------------------------------------- flows


def flow_files(paths: list[str]) -> list[Path]:
    """The export files named: files as given, folders' *.json and *.zip (sorted)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".json", ".zip")))
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"no such file or folder: {raw}")
    if not found:
        raise CommandError(f"no flow exports (*.json, *.zip) in {', '.join(paths)}")
    return found


def resolve_flow(client: Any, ref: str) -> dict[str, Any]:
    """A stored flow (without its data) by id, endpoint name or exact name."""
    flows = client.list_flows(header_flows="true")
    for key in ("id", "endpoint_name", "name"):
        matches = [f for f in flows if f.get(key) == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CommandError(f"{len(matches)} flows are named {ref!r}; use the id")
    raise CommandError(f"no flow {ref!r} on the server (flowless flows ls lists them)")


def _flows_push(args: argparse.Namespace) -> int:
    from flowless.client import FlowlessError

    files = flow_files(args.paths)
    failures = 0
    progress = Progress(len(files))
    with make_client(args) as client:
        for path in files:
            try:
                saved = client.push_flow(path)
            except (FlowlessError, ValueError, OSError) as exc:
                if isinstance(exc, FlowlessError) and exc.status in (401, 403):
                    raise  # every file would fail the same way
                failures += 1
                progress.note(f"failed {path}: {exc}")
                progress.advance(path.name)
                continue
            progress.advance(path.name)
            for flow in saved:
                print(f"{flow['id']}\t{flow.get('endpoint_name') or '-'}\t{flow['name']}", flush=True)
                check = flow.get("flowless") or {}
                if check and not check.get("runnable", True):
                    lacking = ", ".join(u["type"] for u in check.get("unsupported", [])) or "; ".join(p.get("message", "") for p in check.get("problems", []))
                    progress.note(f"warning: {flow['name']} cannot run yet: {lacking}")
    progress.finish()
    if failures:
        raise CommandError(f"{failures} of {len(files)} files could not be pushed")
    return 0


def _flows_pull(args: argparse.Namespace) -> int:
    out = Path(args.output)
    with make_client(args) as client:
        refs = [f["id"] for f in client.list_flows(header_flows="true")] if args.all else args.flows
        if not refs:
            raise CommandError("name at least one flow, or --all")
        single_file = out.suffix.lower() == ".json"
        if single_file and len(refs) > 1:
            raise CommandError("--output names a file: pull one flow at a time, or give a folder")
        if not single_file:
            out.mkdir(parents=True, exist_ok=True)
        for ref in refs:
            flow = resolve_flow(client, ref) if not args.all else {"id": ref}
            export = client.download_flow(flow["id"])
            from flowless.snippets import FlowInfo

            target = out if single_file else out / f"{FlowInfo.from_flow(export).slug}.json"
            target.write_text(json.dumps(export, indent=2) + "\n", encoding="utf-8")
            print(target)
    return 0


def _flows_ls(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        flows = client.list_flows(header_flows="true")
    if args.json:
        print(json.dumps(flows, indent=2))
        return 0
    rows = [(f["id"], f.get("endpoint_name") or "-", f.get("name") or "") for f in flows]
    endpoint_width = max([len("ENDPOINT")] + [len(r[1]) for r in rows])
    print(f"{'ID':<36}  {'ENDPOINT':<{endpoint_width}}  NAME")
    for flow_id, endpoint, name in rows:
        print(f"{flow_id:<36}  {endpoint:<{endpoint_width}}  {name}")
    return 0


def _flows_rm(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        for ref in args.flows:
            flow = resolve_flow(client, ref)
            client.delete_flow(flow["id"])
            print(f"deleted {flow['id']} ({flow.get('name')})")
    return 0


# --------------------------------------------------------------------------- keys (API)


def keys_create_remote(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        key = client.create_api_key(args.name, scopes=args.scope or None, expires_at=args.expires_at)
    print(key["api_key"])
    print(f"id={key.get('id')} name={key.get('name')} scopes={','.join(key.get('scopes') or [])}", file=sys.stderr)
    return 0


def _keys_ls(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        keys = client.list_api_keys()
    if args.json:
        print(json.dumps(keys, indent=2))
        return 0
    print(f"{'ID':<36}  {'KEY':<12}  {'SCOPES':<28}  {'USES':>5}  {'LAST USED':<25}  NAME")
    for key in keys:
        scopes = ",".join(key.get("scopes") or [])
        print(f"{key['id']:<36}  {key['api_key'][:12]:<12}  {scopes:<28}  {key.get('total_uses') or 0:>5}  {key.get('last_used_at') or '-':<25}  {key.get('name') or ''}")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        for key_id in args.key_ids:
            client.delete_api_key(key_id)
            print(f"revoked {key_id}")
    return 0


def add_keys_commands(keys_sub: Any) -> None:
    """`keys ls` and `keys revoke` (through the API); `keys create --url` shares its options."""
    server = connection_options()
    ls = keys_sub.add_parser("ls", parents=[server], help="List the tenant's API keys (masked) through the API (admin key).")
    ls.add_argument("--json", action="store_true", help="Print the raw JSON list.")
    ls.set_defaults(handler=_keys_ls)
    revoke = keys_sub.add_parser("revoke", parents=[server], help="Delete API keys by id through the API (admin key).")
    revoke.add_argument("key_ids", nargs="+", metavar="KEY_ID", help="Key ids, as `flowless keys ls` shows them.")
    revoke.set_defaults(handler=_keys_revoke)


# --------------------------------------------------------------------------- chat


class ChatPrinter:
    """Renders one turn's stream: tokens as they arrive, then whatever of each AI message the
    tokens did not carry (flows without a streaming model send only complete messages)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.shown: dict[str, str] = {}  # message id -> text already written

    def event(self, event: dict[str, Any]) -> None:
        kind, data = event.get("event"), event.get("data") or {}
        if kind == "token":
            self._write(str(data.get("id") or ""), str(data.get("chunk") or ""))
        elif kind == "add_message" and data.get("sender") != "User":
            message_id = str(data.get("id") or "")
            complete = (data.get("properties") or {}).get("state") != "partial"
            self.shown.setdefault(message_id, "")
            text = str(data.get("text") or "")
            if complete and text.startswith(self.shown[message_id]):
                self._write(message_id, text[len(self.shown[message_id]):])

    def _write(self, message_id: str, text: str) -> None:
        if text:
            self.shown[message_id] = self.shown.get(message_id, "") + text
            self.out.write(text)
            self.out.flush()

    @property
    def wrote(self) -> bool:
        return any(self.shown.values())


def _chat(args: argparse.Namespace) -> int:
    from flowless.client import AuthError, ConnectionError, FlowlessError, NotFoundError, RunResult

    session = args.session or f"chat-{uuid.uuid4().hex[:12]}"
    tweaks = parse_tweaks(args.tweaks)
    interactive = sys.stdin.isatty()
    failed_turns = 0
    print(f"Chatting with {args.flow} (session {session}). Type /exit to quit.", file=sys.stderr, flush=True)
    with make_client(args) as client:
        while True:
            if interactive:
                sys.stdout.write("you> ")
                sys.stdout.flush()
            line = sys.stdin.readline()
            if not line:  # end of input
                break
            text = line.strip()
            if not text:
                continue
            if text in ("/exit", "/quit"):
                break
            if interactive:
                sys.stdout.write("ai> ")
            printer = ChatPrinter(sys.stdout)
            try:
                for event in client.stream_flow(args.flow, text, tweaks=tweaks, session_id=session):
                    printer.event(event)
                    if event.get("event") == "end" and not printer.wrote:
                        sys.stdout.write(RunResult.from_response(event["data"]["result"]).output or "")
            except (AuthError, NotFoundError, ConnectionError):
                raise  # the next line would fail the same way
            except FlowlessError as exc:
                failed_turns += 1
                sys.stdout.write("\n")
                print(f"flowless: error: {exc}", file=sys.stderr, flush=True)
                continue
            sys.stdout.write("\n")
            sys.stdout.flush()
    print(f"Session {session} kept; resume with: flowless chat {args.flow} --session {session}", file=sys.stderr)
    if failed_turns:
        raise CommandError(f"{failed_turns} turn(s) failed")
    return 0


# --------------------------------------------------------------------------- snippets


def load_flow_info(args: argparse.Namespace) -> tuple[Any, Path | None, dict[str, Any] | None]:
    """(FlowInfo, local path or None, the export when fetched from the server)."""
    from flowless.snippets import FlowInfo

    path = Path(args.flow)
    if path.suffix.lower() == ".json" or path.is_file():
        if not path.is_file():
            raise CommandError(f"no such flow file: {args.flow}")
        try:
            export = json.loads(path.read_text(encoding="utf-8-sig"))  # an editor's BOM is fine
        except ValueError as exc:
            raise CommandError(f"{args.flow} is not valid JSON: {exc}") from None
        if isinstance(export, dict) and isinstance(export.get("flows"), list):
            if len(export["flows"]) != 1:
                raise CommandError(f"{args.flow} holds {len(export['flows'])} flows; export one")
            export = export["flows"][0]
        if not isinstance(export, dict):
            raise CommandError(f"{args.flow} is not a flow export")
        return FlowInfo.from_flow(export), path, None
    with make_client(args) as client:
        export = client.get_flow(resolve_flow(client, args.flow)["id"])
    return FlowInfo.from_flow(export), None, export


def _snippet(args: argparse.Namespace) -> int:
    from flowless.snippets import snippet

    flow, _, _ = load_flow_info(args)
    if not flow.id and not flow.endpoint_name:
        raise CommandError("the flow has neither an id nor an endpoint name to call it by")
    sys.stdout.write(snippet(args.lang, flow, base_url(args), langflow_id(args)))
    return 0


def _export_python(args: argparse.Namespace) -> int:
    from flowless.snippets import export_python_script

    flow, local_path, export = load_flow_info(args)
    script_dir = Path(args.output).resolve().parent if args.output else Path.cwd()
    if local_path is None:
        with make_client(args) as client:
            export = client.download_flow(flow.id)  # secrets emptied, as a shared export
        local_path = Path(args.flow_file) if args.flow_file else script_dir / f"{flow.slug}.json"
        local_path.write_text(json.dumps(export, indent=2) + "\n", encoding="utf-8")
        print(f"saved the flow export to {local_path}", file=sys.stderr)
    relative = os.path.relpath(local_path.resolve(), script_dir)
    parts = ", ".join(json.dumps(p) for p in Path(relative).parts)
    expression = f"Path(__file__).resolve().parent.joinpath({parts})"
    script = export_python_script(flow, expression)
    if args.output:
        Path(args.output).write_text(script, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(script)
    return 0


# --------------------------------------------------------------------------- registration


def add_commands(sub: Any) -> None:
    server = connection_options()

    flows = sub.add_parser("flows", help="Manage the server's flows (push, pull, ls, rm).", description="Manage the flows stored on a Flowless server.")
    flows_sub = flows.add_subparsers(dest="flows_command", required=True, metavar="{push,pull,ls,rm}")
    push = flows_sub.add_parser("push", parents=[server], help="Upload flow exports (files or folders of *.json / *.zip).",
                                description="Upload Langflow exports. A flow carrying an id replaces the stored flow of that id; others are created.")
    push.add_argument("paths", nargs="+", metavar="PATH", help="An export file, a {\"flows\": [...]} bundle, a ZIP, or a folder of them.")
    push.set_defaults(handler=_flows_push)
    pull = flows_sub.add_parser("pull", parents=[server], help="Download flows as export files (secrets emptied).")
    pull.add_argument("flows", nargs="*", metavar="FLOW", help="Flow id, endpoint name or name.")
    pull.add_argument("--all", action="store_true", help="Every flow of the tenant.")
    pull.add_argument("-o", "--output", default=".", help="Folder (default .) or, for one flow, a .json file path.")
    pull.set_defaults(handler=_flows_pull)
    ls = flows_sub.add_parser("ls", parents=[server], help="List the flows: id, endpoint name, name.")
    ls.add_argument("--json", action="store_true", help="Print the raw JSON list.")
    ls.set_defaults(handler=_flows_ls)
    rm = flows_sub.add_parser("rm", parents=[server], help="Delete flows.")
    rm.add_argument("flows", nargs="+", metavar="FLOW", help="Flow id, endpoint name or name.")
    rm.set_defaults(handler=_flows_rm)

    chat = sub.add_parser("chat", parents=[server], help="Chat with a flow in the terminal (streams tokens, keeps one session).",
                          description="Interactive chat: each line is a run of FLOW in one session; tokens print as they arrive. /exit (or end of input) quits.")
    chat.add_argument("flow", metavar="FLOW", help="Flow id or endpoint name.")
    chat.add_argument("--session", default=None, help="Session id to use or resume (default: a new one).")
    chat.add_argument("--tweaks", default=None, help="JSON object of per-node overrides for every turn.")
    chat.set_defaults(handler=_chat)

    snippet_parser = sub.add_parser("snippet", parents=[server], help="Print a ready-to-run API call for a flow (curl, python, js).",
                                    description="The API pane: a call to FLOW with a tweaks template of its real node ids. The key is read from $FLOWLESS_API_KEY.")
    snippet_parser.add_argument("flow", metavar="FLOW", help="A local export (.json) or a flow on the server (id, endpoint name or name).")
    snippet_parser.add_argument("--lang", choices=("curl", "python", "js"), default="curl", help="Language of the snippet (default curl).")
    snippet_parser.set_defaults(handler=_snippet)

    export = sub.add_parser("export-python", parents=[server], help="Print a standalone script running a flow with run_flow_from_json.",
                            description="A Python script that runs FLOW in-process with flowless_engine.run_flow_from_json (no server). "
                                        "A flow fetched from the server is saved next to the script first.")
    export.add_argument("flow", metavar="FLOW", help="A local export (.json) or a flow on the server (id, endpoint name or name).")
    export.add_argument("-o", "--output", default=None, help="Write the script here instead of stdout.")
    export.add_argument("--flow-file", default=None, help="Where to save a server flow's export (default: <name>.json beside the script).")
    export.set_defaults(handler=_export_python)
