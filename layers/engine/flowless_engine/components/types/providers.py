"""Model and embedding providers (issue 16): every chat-model and embeddings node of Langflow 1.13
and its provider bundles, plus the Text Embedder / Embedding Similarity utilities."""

TYPES: dict[str, str] = {
    # OpenAI-compatible services (one client: llm/openai_compat.py)
    "GroqModel": "providers_openai:GroqModel",
    "OpenRouterComponent": "providers_openai:OpenRouterComponent",
    "LMStudioModel": "providers_openai:LMStudioModel",
    "DeepSeekModelComponent": "providers_openai:DeepSeekModelComponent",
    "xAIModel": "providers_openai:XAIModel",
    "XAIModel": "providers_openai:XAIModel",
    "NVIDIAModelComponent": "providers_openai:NVIDIAModelComponent",
    "SambaNovaModel": "providers_openai:SambaNovaModel",
    "PerplexityModel": "providers_openai:PerplexityModel",
    "MistralModel": "providers_openai:MistralModel",
    "MistralAIModel": "providers_openai:MistralModel",
    "NovitaModel": "providers_openai:NovitaModel",
    "Maritalk": "providers_openai:MaritalkModel",
    "MaritalkModel": "providers_openai:MaritalkModel",
    "AIMLModel": "providers_openai:AIMLModel",
    "CometAPIModel": "providers_openai:CometAPIModel",
    "LiteLLMProxyModel": "providers_openai:LiteLLMProxyModel",
    "OrcaRouterComponent": "providers_openai:OrcaRouterComponent",
    "AzureOpenAIModel": "providers_openai:AzureOpenAIModel",
    "AzureChatOpenAI": "providers_openai:AzureOpenAIModel",
    "LMStudioEmbeddingsComponent": "providers_openai:LMStudioEmbeddingsComponent",
    "MistalAIEmbeddings": "providers_openai:MistralAIEmbeddingsComponent",
    "MistralAIEmbeddings": "providers_openai:MistralAIEmbeddingsComponent",
    "NVIDIAEmbeddingsComponent": "providers_openai:NVIDIAEmbeddingsComponent",
    "AzureOpenAIEmbeddings": "providers_openai:AzureOpenAIEmbeddingsComponent",
    "AIMLEmbeddings": "providers_openai:AIMLEmbeddingsComponent",
    # Google Gemini API
    "GoogleGenerativeAIModel": "providers_google:GoogleGenerativeAIModel",
    "GoogleGenerativeAIEmbeddings": "providers_google:GoogleGenerativeAIEmbeddingsComponent",
    "Google Generative AI Embeddings": "providers_google:GoogleGenerativeAIEmbeddingsComponent",
    "VertexAiModel": "providers_google:VertexAiModel",
    "VertexAIEmbeddings": "providers_google:VertexAIEmbeddingsComponent",
    # Cohere v2
    "CohereModel": "providers_cohere:CohereModel",
    "CohereEmbeddings": "providers_cohere:CohereEmbeddingsComponent",
    # IBM watsonx.ai
    "IBMwatsonxModel": "providers_ibm:IBMwatsonxModel",
    "WatsonxComponent": "providers_ibm:IBMwatsonxModel",
    "WatsonxAI": "providers_ibm:IBMwatsonxModel",
    "WatsonxEmbeddings": "providers_ibm:WatsonxEmbeddingsComponent",
    # Hugging Face
    "HuggingFaceModel": "providers_huggingface:HuggingFaceModel",
    "HuggingFaceInferenceAPIEmbeddings": "providers_huggingface:HuggingFaceInferenceAPIEmbeddings",
    # Anthropic, Amazon Bedrock, Ollama
    "AnthropicModel": "providers_native:AnthropicModel",
    "AmazonBedrockModel": "providers_native:AmazonBedrockModel",
    "AmazonBedrockConverseModel": "providers_native:AmazonBedrockConverseModel",
    "AmazonBedrockEmbeddings": "providers_native:AmazonBedrockEmbeddingsComponent",
    "OllamaModel": "providers_native:OllamaModel",
    "ChatOllamaModel": "providers_native:OllamaModel",
    "OllamaEmbeddings": "providers_native:OllamaEmbeddingsComponent",
    # Their own protocols: Cloudflare Workers AI; Fake Embeddings (no model)
    "CloudflareWorkersAIEmbeddings": "providers_misc:CloudflareWorkersAIEmbeddings",
    "LangChainFakeEmbeddings": "providers_misc:FakeEmbeddingsComponent",
    # Embedding utilities
    "TextEmbedderComponent": "embedding_tools:TextEmbedderComponent",
    "EmbeddingSimilarityComponent": "embedding_tools:EmbeddingSimilarityComponent",
}
