"""Helpers and legacy nodes (components/helpers.py), LangChain splitters and link extraction
(components/splitters.py), model selection and Smart Transform (components/llm_selection.py),
Data Operations (components/operations.py) and Guardrails (Legacy) (components/guardrails.py)."""

TYPES: dict[str, str] = {
    "DataConditionalRouter": "helpers:DataConditionalRouterComponent",
    "IDGenerator": "helpers:IDGeneratorComponent",
    "OutputParser": "helpers:OutputParserComponent",
    "DynamicCreateData": "helpers:DynamicCreateDataComponent",
    "MockDataGenerator": "helpers:MockDataGeneratorComponent",
    "CalculatorTool": "helpers:CalculatorToolComponent",
    "MergeFlows": "helpers:MergeFlowsComponent",
    "LanguageRecursiveTextSplitter": "splitters:LanguageRecursiveTextSplitterComponent",
    "NaturalLanguageTextSplitter": "splitters:NaturalLanguageTextSplitterComponent",
    "HtmlLinkExtractor": "splitters:HtmlLinkExtractorComponent",
    "LLMSelectorComponent": "llm_selection:LLMSelectorComponent",
    "Smart Transform": "llm_selection:SmartTransformComponent",
    "Operations": "operations:OperationsComponent",
    "GuardrailValidator": "guardrails:GuardrailValidatorComponent",
}
