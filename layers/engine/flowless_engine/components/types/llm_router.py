"""LLM Selector / LLM Router (components/llm_router.py)."""

TYPES: dict[str, str] = {
    "LLMRouterComponent": "llm_router:LLMRouterComponent",
    "LLMSelectorComponent": "llm_router:LLMSelectorComponent",
}
