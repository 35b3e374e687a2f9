"""Older agent and chain nodes (LangChain-era agents, ConversationChain, CrewAI)."""

TYPES: dict[str, str] = {
    "ToolCallingAgent": "agents_legacy:ToolCallingAgentComponent",
    "OpenAIToolsAgent": "agents_legacy:OpenAIToolsAgentComponent",
    "ConversationChain": "agents_legacy:ConversationChainComponent",
    "SQLAgent": "agents_legacy:SQLAgentComponent",
    "CrewAIAgentComponent": "agents_legacy:CrewAIAgentComponent",
    "SequentialTaskComponent": "agents_legacy:SequentialTaskComponent",
    "SequentialTaskAgentComponent": "agents_legacy:SequentialTaskAgentComponent",
    "SequentialCrewComponent": "agents_legacy:SequentialCrewComponent",
    "HierarchicalTaskComponent": "agents_legacy:HierarchicalTaskComponent",
    "HierarchicalCrewComponent": "agents_legacy:HierarchicalCrewComponent",
}
