"""What the benchmarks share: the machine line, result files, the flow both executors run, the
local model server, Langflow's executor (lfx) in its own venv, and the RunFunction's storage.

Not a benchmark itself; the scripts beside it import it (`bench/` is their sys.path[0]).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
SHARED_FLOWS = (REPO / ".." / "shared" / "flows").resolve()
BASIC_PROMPTING = SHARED_FLOWS / "Basic Prompting.json"
for _path in (REPO, REPO / "layers" / "engine", REPO / "shared"):
    if str(_path) not in sys.path:
        sys.path.insert(1, str(_path))

# Langflow's starter leaves the model field empty (its UI asks for one); both executors get the
# same explicit choice, through the same OpenAI-compatible local server.
MODEL_CHOICE = [{"name": "gpt-4o-mini", "provider": "OpenAI"}]
INPUT = "Hello, Flowless"
# lfx rewrites 127.0.0.1 / localhost in a model base URL to the container's gateway when it
# believes it runs in a container (it does here: /proc/self/cgroup), so the server listens on
# another loopback address, which both executors then reach directly.
MODEL_HOST = "127.0.0.2"


# --- machine, tables, result files ---------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def load_average() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "load average unknown"


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def write_result(name: str, title: str, command: str, sections: Sequence[str]) -> Path:
    """bench/results/<name>.md: title, date, machine, the command, then the sections."""
    path = RESULTS / f"{name}.md"
    head = [f"# {title}", "", f"- Date: {stamp()} ({load_average()} when written)", f"- Machine: {machine()}", f"- Command: `{command}`", ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(head) + "\n" + "\n\n".join(s.rstrip() for s in sections) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(REPO)}")
    return path


# --- targets and the summary bench/all.py prints --------------------------------------------------


@dataclass
class Check:
    figure: str
    value: str
    target: str
    holds: bool | None  # None: information, no target

    @property
    def verdict(self) -> str:
        return "—" if self.holds is None else ("yes" if self.holds else "NO")


def add_summary_argument(parser: Any) -> None:
    parser.add_argument("--summary", help="also write the figures with targets as JSON here (bench/all.py)")


def write_summary(path: str | None, script: str, checks: Sequence[Check], seconds: float | None = None) -> None:
    if path:
        Path(path).write_text(json.dumps({"script": script, "seconds": seconds, "checks": [asdict(c) for c in checks]}), encoding="utf-8")


def checks_table(checks: Sequence[Check]) -> tuple[str, str]:
    rows = [(c.figure, c.value, c.target, c.verdict) for c in checks]
    header = ("figure", "value", "target", "holds")
    return text_table(header, rows), md_table(header, rows)


# --- statistics ----------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


# --- the flow ------------------------------------------------------------------------------------


def basic_prompting() -> dict[str, Any]:
    """../shared/flows/Basic Prompting.json with its Language Model set to OpenAI gpt-4o-mini."""
    flow = json.loads(BASIC_PROMPTING.read_text(encoding="utf-8"))
    for node in flow["data"]["nodes"]:
        if (node.get("data") or {}).get("type") == "LanguageModelComponent":
            node["data"]["node"]["template"]["model"]["value"] = MODEL_CHOICE
    return flow


@contextmanager
def flow_folder() -> Iterator[Path]:
    """A folder holding only the Basic Prompting variant (for lfx, and to load into the store)."""
    with tempfile.TemporaryDirectory(prefix="flowless-bench-flow-") as folder:
        (Path(folder) / "basic-prompting.json").write_text(json.dumps(basic_prompting()), encoding="utf-8")
        yield Path(folder)


# --- the model server ----------------------------------------------------------------------------

_MODEL_SERVER = """
import sys
from tests.support.model_server import ModelServer
server = ModelServer(host=sys.argv[1])
server.delay_s = 0
server.chunk_delay_s = 0
print(server.base_url, flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
"""


@contextmanager
def model_server() -> Iterator[str]:
    """tests/support/model_server.py answering at once, in its own process (its work does not
    compete for either executor's GIL); yields its OpenAI base URL."""
    process = subprocess.Popen([sys.executable, "-c", _MODEL_SERVER, MODEL_HOST], cwd=REPO, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the model server did not start")
        yield url
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


def model_env(base_url: str) -> dict[str, str]:
    """What both executors need to reach the local server with a throwaway key."""
    return {
        "OPENAI_API_KEY": "sk-bench-any",
        "OPENAI_BASE_URL": base_url,
        # Flowless: the key from the environment when the tenant has no such variable; loopback allowed.
        "FLOWLESS_FALLBACK_TO_ENV_VARS": "true",
        "FLOWLESS_ALLOW_LOOPBACK": "true",
        # lfx: its SSRF guard refuses loopback model URLs unless the host is listed.
        "LANGFLOW_SSRF_ALLOWED_HOSTS": MODEL_HOST,
        "LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS": MODEL_HOST,
        "DO_NOT_TRACK": "true",
    }


# --- lfx ------------------------------------------------------------------------------------------


def lfx_stamp() -> dict[str, Any]:
    """The lfx venv (installed by bench/setup_lfx.py when missing): version, python, install time."""
    import setup_lfx

    return setup_lfx.setup(quiet=True)


def lfx(mode: str, *args: str, env: dict[str, str], timeout: float = 300) -> dict[str, Any]:
    """bench/lfx_worker.py under the lfx venv's python; its JSON answer."""
    import setup_lfx

    lfx_stamp()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    result = subprocess.run([str(setup_lfx.venv_python()), str(BENCH / "lfx_worker.py"), mode, *args], env={**clean, **env},
                            capture_output=True, text=True, timeout=timeout, cwd=tempfile.gettempdir())
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode or not lines:
        raise RuntimeError(f"lfx {mode} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


# --- the RunFunction with its storage ---------------------------------------------------------------


@dataclass
class RunFunctionSetup:
    spec: Any  # flowless.local.invoke.FunctionSpec
    env: dict[str, str]  # the function's Lambda environment (template), pointed at the local services
    event: dict[str, Any]  # API Gateway event: POST /api/v1/run/<Basic Prompting>
    endpoint: str  # embedded DynamoDB (moto)
    tenant: str
    flow_id: str


def run_event(flow_id: str) -> dict[str, Any]:
    """events/run-basic.json (API Gateway REST) aimed at `flow_id`."""
    event = json.loads((REPO / "events" / "run-basic.json").read_text(encoding="utf-8"))
    return json.loads(json.dumps(event).replace("echo-prompt", flow_id))


@contextmanager
def run_function(model_url: str, function: str = "RunFunction") -> Iterator[RunFunctionSetup]:
    """The embedded DynamoDB with the template's tables, the events' API key, ./flows and the
    Basic Prompting variant; the function's environment pointed at it and at the model server."""
    os.environ.setdefault("FLOWLESS_LOCAL_KEY_FILE", str(REPO / ".flowless" / "bench.key"))
    from flowless.local.invoke import UNSAMPLED_TRACE, function_spec, lambda_environment, load_template, prepare_storage
    from flowless.local.server import load_flows

    spec = function_spec(load_template(REPO / "template.yaml"), function, root=REPO)
    local = prepare_storage(spec, flows_dir=REPO / "flows", dynamodb_endpoint=None)
    try:
        with flow_folder() as folder:
            loaded = load_flows(local.tenant, folder)[0]
        env = lambda_environment(spec, base={**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": local.endpoint, **model_env(model_url),
                                             "_X_AMZN_TRACE_ID": UNSAMPLED_TRACE})
        yield RunFunctionSetup(spec, env, run_event(loaded.id), local.endpoint, local.tenant, loaded.id)
    finally:
        if local.stop is not None:
            local.stop()


def body_text(response: dict[str, Any]) -> str:
    """The answer text of a Langflow run response (API Gateway proxy response or parsed body)."""
    body = response.get("body") if "statusCode" in response else response
    data = json.loads(body) if isinstance(body, str) else body
    return data["outputs"][0]["outputs"][0]["results"]["message"]["text"]
