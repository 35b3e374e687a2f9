"""`flowless invoke <LogicalId> -e events/<file>.json`: `sam local invoke` without a container.

Reads template.yaml, builds the function's environment the way Lambda would (Globals, then the
function's own Environment; `!Ref` of a table → its physical name, of a parameter → its default
or an override), puts the function's CodeUri and its layers' content directories on sys.path,
and calls its Handler in a fresh Python process with the event and a fake Lambda context. The
response goes to stdout, the function's logs and a Lambda-style REPORT line (INIT and INVOKE
durations) to stderr.

Storage: the embedded DynamoDB (moto) unless `--dynamodb-endpoint`; either way the tables are
created with the template's names, the events' dev API key is registered in the tenant `local`
and the flows of ./flows are loaded (`flowless.local.server.prepare_environment`).

Differences from Lambda worth knowing: the interpreter is this virtualenv's (not python3.12 on
arm64), dependencies come from its site-packages rather than the built layers, and external
layers (the Lambda Web Adapter) are not available, so RunStreamFunction (handler run.sh) cannot be
invoked here: `flowless run` serves the same app with real streaming.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The API key the files in events/ carry (registered in the tenant "local" before invoking).
EVENTS_API_KEY = "sk-flowless-dev-key-for-events-0000000000000000"
ACCOUNT_ID = "123456789012"
# Lambda's unsampled trace header: the tracer works as deployed but sends nothing.
UNSAMPLED_TRACE = "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0"


# --- template.yaml with CloudFormation's short-form tags -----------------------------------------


def _cfn_loader() -> type:
    import yaml

    class CfnLoader(yaml.SafeLoader):
        """YAML with !Ref, !Sub, !GetAtt, !If, !Join, !Select, ... read as their long form."""

    def intrinsic(loader: Any, tag_suffix: str, node: Any) -> dict[str, Any]:
        name = "Ref" if tag_suffix == "Ref" else ("Condition" if tag_suffix == "Condition" else f"Fn::{tag_suffix}")
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag_suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    CfnLoader.add_multi_constructor("!", intrinsic)
    return CfnLoader


def load_template(path: str | Path) -> dict[str, Any]:
    """template.yaml as plain data; intrinsics become `{"Ref": ...}` / `{"Fn::Sub": ...}` dicts."""
    import yaml

    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_cfn_loader())  # noqa: S506 (a SafeLoader subclass)


_NO_VALUE = object()


class Resolver:
    """Evaluates the intrinsics a function's properties use, with local stand-ins for AWS values."""

    def __init__(self, template: Mapping[str, Any], *, parameters: Mapping[str, str] | None = None, region: str = "us-east-1") -> None:
        self.template = template
        self.region = region
        declared = template.get("Parameters") or {}
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        for name, value in (parameters or {}).items():
            if name not in declared:
                raise ValueError(f"template.yaml has no parameter {name!r}")
            self.parameters[name] = str(value)
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": "flowless-local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key.startswith("Fn::"):
                return self.function(key[4:], arg)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not _NO_VALUE}

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = (self.template.get("Resources") or {}).get(name)
        if resource is None:
            raise ValueError(f"!Ref {name}: no such parameter or resource")
        properties = resource.get("Properties") or {}
        name_property = {"AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName"}.get(resource["Type"])
        if name_property in properties:
            return self.resolve(properties[name_property])
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:layer:{name}:1"
        return name

    def get_att(self, name: str, attribute: str) -> str:
        resource = (self.template.get("Resources") or {}).get(name, {})
        if resource.get("Type") == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{self.ref(name)}"
        return f"{name}.{attribute}"

    def condition(self, name: str) -> bool:
        return bool(self.resolve((self.template.get("Conditions") or {})[name]))

    def function(self, name: str, arg: Any) -> Any:
        if name == "Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            return self._substitute(text, variables)
        if name == "GetAtt":
            target, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.get_att(target, attribute)
        if name == "Join":
            return str(self.resolve(arg[0])).join(str(v) for v in self.resolve(arg[1]))
        if name == "Select":
            return self.resolve(arg[1])[int(self.resolve(arg[0]))]
        if name == "Split":
            return str(self.resolve(arg[1])).split(str(self.resolve(arg[0])))
        if name == "If":
            return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
        if name == "Equals":
            return self.resolve(arg[0]) == self.resolve(arg[1])
        if name == "Not":
            return not self._truth(arg[0])
        if name == "And":
            return all(self._truth(a) for a in arg)
        if name == "Or":
            return any(self._truth(a) for a in arg)
        if name == "FindInMap":
            mapping, top, second = (self.resolve(a) for a in arg)
            return self.template["Mappings"][mapping][top][second]
        if name == "ImportValue":
            return f"import:{self.resolve(arg)}"
        if name in {"Base64", "ToJsonString"}:
            return json.dumps(self.resolve(arg)) if name == "ToJsonString" else self.resolve(arg)
        raise ValueError(f"Fn::{name} is not supported by flowless invoke")

    def _truth(self, value: Any) -> bool:
        if isinstance(value, dict) and set(value) == {"Condition"}:
            return self.condition(value["Condition"])
        return bool(self.resolve(value))

    def _substitute(self, text: str, variables: Mapping[str, Any]) -> str:
        import re

        def one(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return str(variables[expression])
            if "." in expression and expression.split(".", 1)[0] not in self.pseudo:
                target, attribute = expression.split(".", 1)
                return self.get_att(target, attribute)
            return str(self.ref(expression))

        return re.sub(r"\$\{([^}]+)\}", one, text)


# --- what Lambda would run -----------------------------------------------------------------------


@dataclass
class FunctionSpec:
    logical_id: str
    handler: str
    runtime: str
    code_dir: Path
    layer_dirs: list[Path]
    external_layers: list[str]
    environment: dict[str, str]
    memory_mb: int
    timeout_s: int
    events: dict[str, Any] = field(default_factory=dict)


def function_spec(template: Mapping[str, Any], logical_id: str, *, root: str | Path, parameters: Mapping[str, str] | None = None,
                  region: str = "us-east-1") -> FunctionSpec:
    """The function `logical_id` of `template` with Globals applied and intrinsics resolved."""
    resources = template.get("Resources") or {}
    resource = resources.get(logical_id)
    if resource is None or resource.get("Type") != "AWS::Serverless::Function":
        functions = sorted(name for name, r in resources.items() if r.get("Type") == "AWS::Serverless::Function")
        raise ValueError(f"no AWS::Serverless::Function {logical_id!r} in the template (functions: {', '.join(functions)})")
    resolver = Resolver(template, parameters=parameters, region=region)
    defaults = (template.get("Globals") or {}).get("Function") or {}
    properties = resource.get("Properties") or {}

    def prop(name: str, fallback: Any = None) -> Any:
        return properties.get(name, defaults.get(name, fallback))

    environment: dict[str, str] = {}
    for source in (defaults, properties):
        variables = ((source.get("Environment") or {}).get("Variables")) or {}
        for name, value in resolver.resolve(variables).items():
            environment[name] = "" if value is None else str(value)

    root = Path(root)
    layer_dirs: list[Path] = []
    external: list[str] = []
    for layer in list(defaults.get("Layers") or []) + list(properties.get("Layers") or []):  # SAM: lists are additive
        if isinstance(layer, dict) and set(layer) == {"Ref"} and resources.get(layer["Ref"], {}).get("Type") == "AWS::Serverless::LayerVersion":
            content = resources[layer["Ref"]]["Properties"]["ContentUri"]
            layer_dirs.append((root / content).resolve())
        else:
            external.append(str(resolver.resolve(layer)))
    code_uri = prop("CodeUri")
    if not isinstance(code_uri, str):
        raise ValueError(f"{logical_id}: only a local CodeUri directory can be invoked")
    return FunctionSpec(
        logical_id=logical_id,
        handler=str(prop("Handler")),
        runtime=str(prop("Runtime", "python3.12")),
        code_dir=(root / code_uri).resolve(),
        layer_dirs=layer_dirs,
        external_layers=external,
        environment=environment,
        memory_mb=int(resolver.resolve(prop("MemorySize", 128))),
        timeout_s=int(resolver.resolve(prop("Timeout", 3))),
        events=properties.get("Events") or {},
    )


# --- the fresh process ---------------------------------------------------------------------------

# Runs in the child: the handler's import is INIT, each call an INVOKE. Kept free of flowless
# imports so that nothing is loaded before the function's own code.
BOOTSTRAP = r"""
import importlib, json, os, resource, sys, time, uuid
spec = json.load(open(sys.argv[1], encoding="utf-8"))
sys.path[:0] = spec["path"]
module_name, _, function_name = spec["handler"].rpartition(".")

class LambdaContext:
    def __init__(self):
        name = spec["function_name"]
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = "arn:aws:lambda:%s:%s:function:%s" % (spec["region"], spec["account"], name)
        self.memory_limit_in_mb = spec["memory_mb"]
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = "/aws/lambda/" + name
        self.log_stream_name = time.strftime("%Y/%m/%d") + "/[$LATEST]" + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec["timeout_s"]

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

init_start, init_cpu = time.perf_counter(), time.process_time()
handler = getattr(importlib.import_module(module_name), function_name)
init_ms, init_cpu_ms = (time.perf_counter() - init_start) * 1000, (time.process_time() - init_cpu) * 1000
results = []
for event in spec["events"]:
    context = LambdaContext()
    os.environ["_X_AMZN_TRACE_ID"] = spec["trace_header"]
    os.environ["AWS_LAMBDA_REQUEST_ID"] = context.aws_request_id
    begin = time.perf_counter()
    try:
        response, error = handler(event, context), None
    except Exception as exc:
        import traceback
        traceback.print_exc()
        response, error = None, {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    results.append({"request_id": context.aws_request_id, "response": response, "error": error,
                    "duration_ms": (time.perf_counter() - begin) * 1000})
sys.stdout.flush()
sys.stderr.flush()
# Peak RSS of this process's memory (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
# exec from the parent that started us, so it would report the parent's size when larger.
with open("/proc/self/status", encoding="ascii") as status:
    peak_kb = next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), None)
if peak_kb is None:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(spec["result"], "w", encoding="utf-8") as out:
    json.dump({"init_ms": init_ms, "init_cpu_ms": init_cpu_ms, "invocations": results,
               "max_rss_mb": peak_kb / 1024}, out, default=str)
"""


@dataclass
class Invocation:
    request_id: str
    response: Any
    error: dict[str, str] | None
    duration_ms: float


@dataclass
class InvokeResult:
    init_ms: float
    init_cpu_ms: float
    invocations: list[Invocation]
    max_rss_mb: float
    logs: str
    returncode: int


def lambda_environment(spec: FunctionSpec, *, region: str = "us-east-1", base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: ours (credentials, endpoint), Lambda's reserved variables, the function's."""
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONPATH", None)
    env.update({
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
    })
    env.update(spec.environment)
    return env


def invoke(spec: FunctionSpec, events: list[dict[str, Any]], *, env: Mapping[str, str] | None = None, region: str = "us-east-1",
           python: str | None = None, timeout_s: float | None = None) -> InvokeResult:
    """Import the handler in a fresh process and call it with each event in turn (the first is the
    cold invocation, the others warm)."""
    if spec.handler.endswith(".sh") or "." not in spec.handler:
        raise ValueError(f"{spec.logical_id} has handler {spec.handler!r}, not a Python handler (module.function): "
                         "it runs under the Lambda Web Adapter; serve the same app locally with `flowless run`")
    with tempfile.TemporaryDirectory(prefix="flowless-invoke-") as scratch:
        spec_file = Path(scratch) / "spec.json"
        result_file = Path(scratch) / "result.json"
        spec_file.write_text(json.dumps({
            "path": [str(spec.code_dir)] + [str(d) for d in spec.layer_dirs],
            "handler": spec.handler,
            "function_name": spec.logical_id,
            "memory_mb": spec.memory_mb,
            "timeout_s": spec.timeout_s,
            "region": region,
            "account": ACCOUNT_ID,
            "trace_header": UNSAMPLED_TRACE,
            "events": events,
            "result": str(result_file),
        }), encoding="utf-8")
        process = subprocess.run(
            [python or sys.executable, "-c", BOOTSTRAP, str(spec_file)],
            cwd=spec.code_dir,
            env=dict(env) if env is not None else lambda_environment(spec, region=region),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout_s if timeout_s is not None else spec.timeout_s * max(1, len(events)) + 60,
        )
        if not result_file.exists():
            raise RuntimeError(f"{spec.logical_id} failed before answering (exit {process.returncode}):\n{process.stdout}")
        raw = json.loads(result_file.read_text(encoding="utf-8"))
    return InvokeResult(
        init_ms=raw["init_ms"],
        init_cpu_ms=raw["init_cpu_ms"],
        invocations=[Invocation(**item) for item in raw["invocations"]],
        max_rss_mb=raw["max_rss_mb"],
        logs=process.stdout,
        returncode=process.returncode,
    )


# --- storage for the invocation ------------------------------------------------------------------


def prepare_storage(spec: FunctionSpec, *, flows_dir: Path | None, dynamodb_endpoint: str | None) -> Any:
    """Tables named as the function will look for them, the events' API key, the flows; returns
    the LocalEnvironment (its `stop` ends the embedded DynamoDB)."""
    from flowless.settings import TABLE_ENV_VARS

    for variable in (*TABLE_ENV_VARS.values(), "FILES_BUCKET"):
        if variable in spec.environment:
            os.environ[variable] = spec.environment[variable]
    os.environ.setdefault("FLOWLESS_API_KEY", EVENTS_API_KEY)
    from flowless.local.server import ensure_dev_key, prepare_environment

    local = prepare_environment(flows_dir=str(flows_dir) if flows_dir else None, dynamodb_endpoint=dynamodb_endpoint)
    # The events carry their own key: registered too when the user exported another FLOWLESS_API_KEY.
    ensure_dev_key(local.tenant, EVENTS_API_KEY)
    return local


# --- the command ---------------------------------------------------------------------------------


def parse_overrides(text: str | None) -> dict[str, str]:
    """`Stage=prod LogLevel=DEBUG` (sam's --parameter-overrides form, also ParameterKey=..,ParameterValue=..)."""
    overrides: dict[str, str] = {}
    for item in (text or "").split():
        if item.startswith("ParameterKey="):
            parts = dict(part.split("=", 1) for part in item.split(","))
            overrides[parts["ParameterKey"]] = parts.get("ParameterValue", "")
        elif "=" in item:
            key, value = item.split("=", 1)
            overrides[key] = value
        else:
            raise ValueError(f"parameter override {item!r} is not Name=Value")
    return overrides


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("function", metavar="LogicalId", help="Function in template.yaml, e.g. RunFunction.")
    parser.add_argument("-e", "--event", required=True, help="API Gateway event JSON file (see events/), or - for stdin.")
    parser.add_argument("-t", "--template", default="template.yaml", help="SAM template (default ./template.yaml).")
    parser.add_argument("--parameter-overrides", default=None, help="Template parameters, e.g. 'Stage=dev LogLevel=DEBUG'.")
    parser.add_argument("--dynamodb-endpoint", default=None, help="Use this DynamoDB instead of the embedded one.")
    parser.add_argument("--flows", default=None, help="Flow exports to load first (default: flows/ beside the template).")
    parser.add_argument("--repeat", type=int, default=1, help="Invoke N times in the same process (1 cold, N-1 warm).")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                        help="AWS_REGION of the function (default: the environment's, else us-east-1).")


def run_command(args: argparse.Namespace) -> int:
    template_path = Path(args.template).resolve()
    if not template_path.is_file():
        raise FileNotFoundError(f"{args.template}: no such template")
    event_text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text(encoding="utf-8")
    event = json.loads(event_text)
    spec = function_spec(load_template(template_path), args.function, root=template_path.parent,
                         parameters=parse_overrides(args.parameter_overrides), region=args.region)
    flows = Path(args.flows) if args.flows else template_path.parent / "flows"
    local = prepare_storage(spec, flows_dir=flows if flows.is_dir() else None, dynamodb_endpoint=args.dynamodb_endpoint)
    try:
        started = time.perf_counter()
        result = invoke(spec, [event] * max(1, args.repeat), region=args.region,
                        env=lambda_environment(spec, region=args.region, base={**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": local.endpoint}))
        wall_ms = (time.perf_counter() - started) * 1000
    finally:
        if local.stop is not None:
            local.stop()
    if result.logs:
        sys.stderr.write(result.logs if result.logs.endswith("\n") else result.logs + "\n")
    failed = False
    for number, call in enumerate(result.invocations):
        print(json.dumps(call.error if call.error else call.response))
        init = f"Init Duration: {result.init_ms:.2f} ms\t" if number == 0 else ""
        print(f"REPORT RequestId: {call.request_id}\t{init}Duration: {call.duration_ms:.2f} ms\t"
              f"Memory Size: {spec.memory_mb} MB\tMax Memory Used: {result.max_rss_mb:.0f} MB", file=sys.stderr)
        failed = failed or call.error is not None
    print(f"{spec.logical_id}: INIT {result.init_ms:.1f} ms (CPU {result.init_cpu_ms:.1f} ms), "
          f"INVOKE {', '.join(f'{c.duration_ms:.1f}' for c in result.invocations)} ms, process {wall_ms:.0f} ms", file=sys.stderr)
    return 1 if failed or result.returncode else 0
