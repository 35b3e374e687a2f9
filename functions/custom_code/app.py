"""CustomCodeFunction: one vertex of approved custom code per invocation (the code runner protocol
of flowless_engine/runtime/code.py). Invoked by the run functions with the tenant as tenant id
(Lambda tenant isolation mode); its role may only write its logs. The code runs in this process:
the execution environment is the tenant's own, and it holds nothing of Flowless's."""

from typing import Any

from flowless_sandbox.execute import run_call


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_call(event)
