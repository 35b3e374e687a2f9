"""Older LangChain chains, retrievers and agents (issue 18 item 5, the rest)."""

TYPES: dict[str, str] = {
    "RetrievalQA": "chains_legacy:RetrievalQAComponent",
    "LLMMathChain": "chains_legacy:LLMMathChainComponent",
    "LLMCheckerChain": "chains_legacy:LLMCheckerChainComponent",
    "SQLDatabase": "chains_legacy:SQLDatabaseComponent",
    "SQLGenerator": "chains_legacy:SQLGeneratorComponent",
    "VectorStoreInfo": "chains_legacy:VectorStoreInfoComponent",
    "VectorStoreRouterAgent": "chains_legacy:VectorStoreRouterAgentComponent",
    "SelfQueryRetriever": "chains_legacy:SelfQueryRetrieverComponent",
    "RunnableExecutor": "chains_legacy:RunnableExecutorComponent",
}
TYPES.update({
    "XMLAgent": "agents_text:XMLAgentComponent",
    "OpenAPIAgent": "agents_text:OpenAPIAgentComponent",
})
TYPES["LangChain Hub Prompt"] = "langchain_hub:LangChainHubPromptComponent"
