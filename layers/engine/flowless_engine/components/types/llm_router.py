"""LLM Router: Langflow 1.3–1.6's name (`LLMRouterComponent`) of the node 1.13 calls LLM Selector,
with the same fields and outputs (components/llm_selection.py)."""

TYPES: dict[str, str] = {
    "LLMRouterComponent": "llm_selection:LLMSelectorComponent",
}
