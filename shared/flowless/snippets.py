"""Code that calls a flow, as Langflow's API pane writes it: curl, Python (requests), JavaScript
(fetch), each with a tweaks template naming the flow's real nodes, and a standalone Python
script running the export in-process with `run_flow_from_json`.

Keys are never written into the code: snippets read `$FLOWLESS_API_KEY`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("curl", "python", "js")


@dataclass(frozen=True)
class FlowInfo:
    id: str
    name: str
    endpoint_name: str | None
    node_ids: list[str]

    @classmethod
    def from_flow(cls, flow: dict[str, Any]) -> FlowInfo:
        data = flow.get("data") if isinstance(flow.get("data"), dict) else flow
        nodes = data.get("nodes") if isinstance(data, dict) else None
        return cls(
            id=str(flow.get("id") or ""),
            name=str(flow.get("name") or "flow"),
            endpoint_name=flow.get("endpoint_name") or None,
            node_ids=component_ids(nodes or []),
        )

    @property
    def target(self) -> str:
        """What the run URL names: the endpoint name when the flow has one, else its id."""
        return self.endpoint_name or self.id

    @property
    def slug(self) -> str:
        return self.endpoint_name or re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "flow"


def component_ids(nodes: list[Any]) -> list[str]:
    """The ids of the flow's components (sticky notes left out), in the flow's order."""
    ids = []
    for node in nodes:
        if not isinstance(node, dict) or not node.get("id"):
            continue
        data = node.get("data") if isinstance(node.get("data"), dict) else {}
        if node.get("type") == "noteNode" or data.get("type") == "note":
            continue
        ids.append(str(node["id"]))
    return ids


def tweaks_template(flow: FlowInfo, indent: int = 2) -> str:
    """`{"<node id>": {}, ...}` as the API pane shows it."""
    return json.dumps({node_id: {} for node_id in flow.node_ids}, indent=indent)


def run_url(base_url: str, flow: FlowInfo, langflow_id: str | None) -> str:
    prefix = f"/lf/{langflow_id}" if langflow_id else ""
    return f"{base_url.rstrip('/')}{prefix}/api/v1/run/{flow.target}"


def snippet(lang: str, flow: FlowInfo, base_url: str, langflow_id: str | None = None) -> str:
    if lang == "curl":
        return curl_snippet(flow, base_url, langflow_id)
    if lang == "python":
        return python_snippet(flow, base_url, langflow_id)
    if lang == "js":
        return js_snippet(flow, base_url, langflow_id)
    raise ValueError(f"unknown language {lang!r} (one of {', '.join(LANGUAGES)})")


def _indented(text: str, spaces: int) -> str:
    """Every line but the first indented (a block nested in surrounding code)."""
    return text.replace("\n", "\n" + " " * spaces)


def _shell_single_quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def curl_snippet(flow: FlowInfo, base_url: str, langflow_id: str | None = None) -> str:
    auth = '"Authorization: Bearer $FLOWLESS_API_KEY"' if langflow_id else '"x-api-key: $FLOWLESS_API_KEY"'
    body = (
        '{"input_value": "message",\n'
        '  "output_type": "chat",\n'
        '  "input_type": "chat",\n'
        f'  "tweaks": {_indented(tweaks_template(flow), 2)}}}'
    )
    return (
        f"# Run the flow {json.dumps(flow.name)}. Set FLOWLESS_API_KEY first.\n"
        "curl -X POST \\\n"
        f'  "{run_url(base_url, flow, langflow_id)}?stream=false" \\\n'
        "  -H 'Content-Type: application/json' \\\n"
        f"  -H {auth} \\\n"
        f"  -d {_shell_single_quoted(body)}\n"
    )


def python_snippet(flow: FlowInfo, base_url: str, langflow_id: str | None = None) -> str:
    return f'''"""Run the flow {json.dumps(flow.name)} through Langflow's API (served by Flowless).

Run it like: python run_flow.py "your message" --tweaks '{{"<node id>": {{"<field>": "value"}}}}'
The key is read from FLOWLESS_API_KEY.
"""

import argparse
import json
import os

import requests

BASE_API_URL = {json.dumps(base_url.rstrip("/"))}
LANGFLOW_ID = {json.dumps(langflow_id or "")}  # set for the hosted form /lf/<id>/ (the key goes as a Bearer token)
FLOW_ID = {json.dumps(flow.id)}
ENDPOINT = {json.dumps(flow.endpoint_name or "")}  # the flow's endpoint name, when it has one
API_KEY = os.environ.get("FLOWLESS_API_KEY", "")

# Override any node's fields per run, e.g. {{"Prompt-xxxxx": {{"template": "..."}}}}
TWEAKS = {tweaks_template(flow, indent=4)}


def run_flow(message, endpoint, output_type="chat", input_type="chat", tweaks=None, api_key=None):
    """Run the flow with `message` and return Langflow's JSON answer."""
    prefix = f"/lf/{{LANGFLOW_ID}}" if LANGFLOW_ID else ""
    api_url = f"{{BASE_API_URL}}{{prefix}}/api/v1/run/{{endpoint}}"
    payload = {{"input_value": message, "output_type": output_type, "input_type": input_type}}
    if tweaks:
        payload["tweaks"] = tweaks
    headers = {{}}
    if api_key:
        headers = {{"Authorization": f"Bearer {{api_key}}"}} if LANGFLOW_ID else {{"x-api-key": api_key}}
    response = requests.post(api_url, json=payload, headers=headers, timeout=120)
    if not response.ok:
        raise RuntimeError(f"{{response.status_code}} {{response.text}}")
    return response.json()


def main():
    parser = argparse.ArgumentParser(description="Run the flow with a message and optional tweaks.")
    parser.add_argument("message", help="The message to send to the flow")
    parser.add_argument("--endpoint", default=ENDPOINT or FLOW_ID, help="The flow's id or endpoint name")
    parser.add_argument("--tweaks", default=json.dumps(TWEAKS), help="JSON object of per-node overrides")
    parser.add_argument("--api-key", default=API_KEY, help="API key (default: $FLOWLESS_API_KEY)")
    parser.add_argument("--output-type", default="chat")
    parser.add_argument("--input-type", default="chat")
    args = parser.parse_args()
    response = run_flow(args.message, args.endpoint, args.output_type, args.input_type, json.loads(args.tweaks), args.api_key)
    print(json.dumps(response, indent=2))


if __name__ == "__main__":
    main()
'''


def js_snippet(flow: FlowInfo, base_url: str, langflow_id: str | None = None) -> str:
    return f"""// Run the flow {json.dumps(flow.name)} through Langflow's API (served by Flowless).
// Node 18+ (built-in fetch): FLOWLESS_API_KEY=sk-... node run_flow.mjs "your message"
// (@datastax/langflow-client works too: new LangflowClient({{ baseUrl, apiKey }}).flow(FLOW).run(message))

const BASE_API_URL = {json.dumps(base_url.rstrip("/"))};
const LANGFLOW_ID = {json.dumps(langflow_id or "")}; // set for the hosted form /lf/<id>/ (Bearer key)
const FLOW = {json.dumps(flow.target)}; // the flow's endpoint name or id
const API_KEY = process.env.FLOWLESS_API_KEY || "";

// Override any node's fields per run, e.g. {{"Prompt-xxxxx": {{"template": "..."}}}}
const TWEAKS = {tweaks_template(flow)};

async function runFlow(message, tweaks = TWEAKS) {{
  const prefix = LANGFLOW_ID ? `/lf/${{LANGFLOW_ID}}` : "";
  const headers = {{ "Content-Type": "application/json" }};
  if (API_KEY) {{
    if (LANGFLOW_ID) headers["Authorization"] = `Bearer ${{API_KEY}}`;
    else headers["x-api-key"] = API_KEY;
  }}
  const response = await fetch(`${{BASE_API_URL}}${{prefix}}/api/v1/run/${{FLOW}}?stream=false`, {{
    method: "POST",
    headers,
    body: JSON.stringify({{ input_value: message, output_type: "chat", input_type: "chat", tweaks }}),
  }});
  const body = await response.json();
  if (!response.ok) throw new Error(`${{response.status}} ${{JSON.stringify(body.detail ?? body)}}`);
  return body;
}}

runFlow(process.argv[2] ?? "message")
  .then((body) => console.log(body.outputs[0].outputs[0].results.message.text))
  .catch((error) => {{
    console.error(error.message);
    process.exitCode = 1;
  }});
"""


def export_python_script(flow: FlowInfo, flow_path_expr: str) -> str:
    """A standalone script running the export in-process (no server) with the engine."""
    return f'''"""Run the flow {json.dumps(flow.name)} in-process with Flowless's engine (no server needed).

Generated by `flowless export-python`. Needs the flowless package (it provides flowless_engine).
Run it like: python {flow.slug.replace("-", "_")}.py "your message" [--tweaks '{{"<node id>": {{...}}}}']
Model credentials come from the environment (e.g. OPENAI_API_KEY, OPENAI_BASE_URL).
"""

import argparse
import json
from pathlib import Path

from flowless_engine import run_flow_from_json

FLOW = {flow_path_expr}
# Override any node's fields per run, e.g. {{"Prompt-xxxxx": {{"template": "..."}}}}
TWEAKS = {tweaks_template(flow, indent=4)}


def answer(outputs):
    """The first text among the run's outputs (normally the Chat Output's message)."""
    for run in outputs:
        for output in run["outputs"]:
            for value in output["results"].values():
                text = value.get("text") if isinstance(value, dict) else value
                if isinstance(text, str):
                    return text
    return json.dumps(outputs, indent=2, default=str)


def main():
    parser = argparse.ArgumentParser(description="Run the flow with a message and optional tweaks.")
    parser.add_argument("message", nargs="?", default="message", help="The message to send to the flow")
    parser.add_argument("--tweaks", default=json.dumps(TWEAKS), help="JSON object of per-node overrides")
    parser.add_argument("--session-id", default=None, help="Conversation id (default: the flow id)")
    args = parser.parse_args()
    outputs = run_flow_from_json(
        flow=FLOW,
        input_value=args.message,
        session_id=args.session_id,
        fallback_to_env_vars=True,
        tweaks=json.loads(args.tweaks),
    )
    print(answer(outputs))


if __name__ == "__main__":
    main()
'''
