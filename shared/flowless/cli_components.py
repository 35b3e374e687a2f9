"""`flowless components approve|ls|revoke`: approving the user code of a flow, after reading it.

`approve FLOW.json` lists every piece of code the flow holds that Flowless would run in the
sandbox (custom components, edited stock components, executed code inputs), prints the code
itself with its SHA-256, and approves the hashes for the tenant of the (admin) API key once the
user confirms (or with --yes). Only the hashes travel; the server keeps who and when.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def code_of_flow(path: Path) -> list[dict[str, Any]]:
    """The flow's code items (node, field, sha256) with the code text, in node order."""
    from flowless_engine.graph.loader import load_graph

    graph = load_graph(path.read_text(encoding="utf-8-sig"))
    items = []
    for vertex in graph.vertices.values():
        for field, digest in vertex.code_hashes.items():
            items.append({"node_id": vertex.id, "type": vertex.type, "display_name": vertex.display_name, "field": field, "sha256": digest, "code": vertex.user_code[field]})
    return items


def _approve(args: argparse.Namespace) -> int:
    from flowless.cli_remote import make_client

    items = [item for path in args.flows for item in code_of_flow(Path(path))]
    if not items:
        print("This flow holds no code to approve: Flowless runs it natively.", file=sys.stderr)
        return 0
    with make_client(args) as client:
        approved = {a["sha256"] for a in client.code_approvals()}
        pending = [item for item in items if item["sha256"] not in approved]
        for item in items:
            state = "approved" if item["sha256"] in approved else "NOT APPROVED"
            print(f"\n=== {item['display_name']} ({item['node_id']}, {item['type']}) field '{item['field']}'  [{state}]")
            print(f"    sha256 {item['sha256']}")
            if item["sha256"] not in approved or args.show_all:
                print(item["code"].rstrip())
        hashes = list(dict.fromkeys(item["sha256"] for item in pending))
        if not hashes:
            print("\nEverything is approved already.", file=sys.stderr)
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                print("\nflowless components approve: not a terminal; read the code above and re-run with --yes", file=sys.stderr)
                return 1
            answer = input(f"\nApprove these {len(hashes)} piece(s) of code to run in your tenant's sandbox? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("Nothing approved.", file=sys.stderr)
                return 1
        note = args.note or ", ".join(sorted({Path(p).name for p in args.flows}))[:500]
        for approval in client.approve_code(hashes, note=note):
            print(f"approved {approval['sha256']} by {approval['approved_by']} at {approval['approved_at']}")
    return 0


def _ls(args: argparse.Namespace) -> int:
    from flowless.cli_remote import make_client

    with make_client(args) as client:
        approvals = client.code_approvals()
    if args.json:
        print(json.dumps(approvals, indent=2))
        return 0
    for approval in approvals:
        print(f"{approval['sha256']}  {approval['approved_at']}  {approval['approved_by']}  {approval.get('note') or ''}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from flowless.cli_remote import make_client

    with make_client(args) as client:
        for digest in args.sha256:
            client.revoke_code(digest)
            print(f"revoked {digest}")
    return 0


def add_commands(sub: Any) -> None:
    from flowless.cli_remote import connection_options

    server = connection_options()
    components = sub.add_parser("components", help="Approve the custom code of flows (admin key): approve, ls, revoke.")
    commands = components.add_subparsers(dest="components_command", required=True)
    approve = commands.add_parser(
        "approve", parents=[server], help="Show the code a flow holds and approve its SHA-256 hashes for your tenant.",
        description="Prints every piece of code of FLOW.json that would run in the sandbox (custom components, edited "
        "stock components, executed code inputs) with its SHA-256, then approves the hashes after you confirm.",
    )
    approve.add_argument("flows", nargs="+", metavar="FLOW.json", help="Flow exports to read.")
    approve.add_argument("--yes", action="store_true", help="Approve without asking (you have read the code).")
    approve.add_argument("--note", default=None, help="A note kept with the approval (default: the file names).")
    approve.add_argument("--show-all", action="store_true", help="Also print code that is approved already.")
    approve.set_defaults(handler=_approve)
    ls = commands.add_parser("ls", parents=[server], help="List the tenant's approved code hashes (who, when).")
    ls.add_argument("--json", action="store_true", help="Print the raw JSON list.")
    ls.set_defaults(handler=_ls)
    revoke = commands.add_parser("revoke", parents=[server], help="Revoke approvals: flows holding the code are refused again.")
    revoke.add_argument("sha256", nargs="+", metavar="SHA256")
    revoke.set_defaults(handler=_revoke)
