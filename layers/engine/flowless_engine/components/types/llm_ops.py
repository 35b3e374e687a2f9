"""LLM operations (components/llm_ops.py)."""

TYPES: dict[str, str] = {
    "BatchRunComponent": "llm_ops:BatchRunComponent",
    "SmartRouter": "llm_ops:SmartRouterComponent",
}
