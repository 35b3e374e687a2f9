"""The `flowless` command. Every subcommand has --help; exit codes: 0 ok, 1 failure, 2 usage."""

from __future__ import annotations

import argparse
import sys


def _run(args: argparse.Namespace) -> int:
    from flowless.local.server import serve

    serve(host=args.host, port=args.port, flows_dir=args.flows, dynamodb_endpoint=args.dynamodb_endpoint)
    return 0


def _keys_create(args: argparse.Namespace) -> int:
    import os
    from urllib.parse import urlsplit

    if args.tenant is None:  # through the API, for the calling key's tenant
        if args.dynamodb_endpoint:
            print("flowless keys create: error: --dynamodb-endpoint needs --tenant", file=sys.stderr)
            return 2
        from flowless.cli_remote import keys_create_remote

        return keys_create_remote(args)

    from flowless.auth.keys import create_api_key
    from flowless.settings import reset_settings_cache
    from flowless.store.connection import configure

    if args.dynamodb_endpoint:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = args.dynamodb_endpoint
        if urlsplit(args.dynamodb_endpoint).hostname in ("127.0.0.1", "localhost", "::1"):
            # A local DynamoDB (the one `flowless run` embeds, DynamoDB Local) takes any credentials.
            for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local"), ("AWS_DEFAULT_REGION", "us-east-1")):
                os.environ.setdefault(name, value)
    reset_settings_cache()
    configure()
    plaintext, record = create_api_key(args.tenant, args.name, scopes=args.scope or None)
    print(plaintext)
    print(f"tenant={args.tenant} name={args.name} scopes={','.join(sorted(str(getattr(s, 'value', s)) for s in record.scopes))}", file=sys.stderr)
    return 0


def _invoke(args: argparse.Namespace) -> int:
    from flowless.local.invoke import run_command

    return run_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowless", description="Langflow flows as a serverless API.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="Start the local API server (all routes, embedded DynamoDB).")
    run.add_argument("--backend-only", action="store_true", help="Accepted for Langflow compatibility; Flowless has no UI.")
    run.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
    run.add_argument("--port", type=int, default=7860, help="Port (default 7860).")
    run.add_argument("--flows", default="flows", help="Folder of flow exports to load (default ./flows).")
    run.add_argument("--dynamodb-endpoint", default=None, help="Use this DynamoDB endpoint instead of the embedded one.")
    run.set_defaults(handler=_run)

    from flowless import cli_remote

    keys = sub.add_parser("keys", help="Manage API keys (create, ls, revoke).")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser(
        "create", parents=[cli_remote.connection_options()], help="Create an API key and print it (shown once).",
        description="With --tenant, writes the key straight into DynamoDB (bootstrap). Without it, creates the key "
        "through the API (--url) for the tenant of the calling key, which needs the admin scope.",
    )
    create.add_argument("--tenant", default=None, help="Tenant the key acts for (direct DynamoDB mode).")
    create.add_argument("--name", required=True, help="A label for the key.")
    create.add_argument("--scope", action="append", choices=["read", "execute", "write", "admin"], help="Repeat for several; default read, execute, write.")
    create.add_argument("--dynamodb-endpoint", default=None, help="DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB or AWS).")
    create.add_argument("--expires-at", default=None, help="API mode: ISO date-time after which the key stops working.")
    create.set_defaults(handler=_keys_create)
    cli_remote.add_keys_commands(keys_sub)

    invoke = sub.add_parser(
        "invoke",
        help="Invoke a template.yaml function with an event in a fresh process (sam local invoke without a container).",
        description="Runs the function's Handler with its template environment and layers on sys.path, against the "
        "embedded DynamoDB (tables, the events' dev key and ./flows prepared) or --dynamodb-endpoint. Prints the "
        "response JSON on stdout; logs and a REPORT line with INIT and INVOKE durations on stderr.",
    )
    from flowless.local.invoke import add_arguments as add_invoke_arguments

    add_invoke_arguments(invoke)
    invoke.set_defaults(handler=_invoke)

    cli_remote.add_commands(sub)
    from flowless import cli_components

    cli_components.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear message for scripts, not a traceback
        print(f"flowless: error: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
