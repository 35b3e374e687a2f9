"""Nodes of the providers with their own protocol clients: Anthropic (Messages API), Amazon
Bedrock (Converse, through botocore) and Ollama (`/api/chat`, `/api/embed`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flowless_engine.components.base import Component, to_bool, to_text
from flowless_engine.components.providers_base import (
    MODEL_BASE_INPUTS,
    ChatProviderComponent,
    EmbeddingsProviderComponent,
    bool_in,
    dict_in,
    dropdown_in,
    float_in,
    int_in,
    secret_in,
    slider_in,
    str_in,
    text_in,
)
from flowless_engine.components.base import Input, Output
from flowless_engine.errors import ComponentError
from flowless_engine.schema import Data, DataFrame

if TYPE_CHECKING:
    from flowless_engine.llm.base import ModelConfig
    from flowless_engine.llm.embeddings import EmbeddingConfig


class AnthropicModel(ChatProviderComponent):
    type_name = "AnthropicModel"
    aliases = ("AnthropicModelComponent",)
    display_name = "Anthropic"
    description = "Generate text using Anthropic's Messages API and models."
    icon = "Anthropic"
    provider = "Anthropic"
    url_field = "base_url"
    default_model = "claude-sonnet-4-5-20250929"
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_tokens", "Max Tokens", 4096, advanced=True),
        dropdown_in("model_name", "Model Name", "claude-sonnet-4-5-20250929"),
        secret_in("api_key", "Anthropic API Key", required=True),
        slider_in("temperature", "Temperature", 0.1, advanced=True),
        text_in("base_url", "Anthropic API URL", "https://api.anthropic.com", advanced=True),
        bool_in("tool_model_enabled", "Enable Tool Models", False),
    )


# ---- Amazon Bedrock -------------------------------------------------------------------------

_AWS_FIELDS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


async def _aws_extra(component: Component) -> dict[str, Any]:
    """Region, endpoint and credentials: each key field names a tenant variable (load_from_db)
    or holds the value; absent, botocore's own chain (the function's role) applies."""
    extra: dict[str, Any] = {}
    for field in _AWS_FIELDS:
        if component.params.get(field):
            value = await component.secret(field)
            if value:
                extra[field] = value
    region = to_text(component.params.get("region_name")).strip()
    if region:
        extra["region"] = region
    endpoint = to_text(component.params.get("endpoint_url")).strip()
    if endpoint:
        extra["endpoint_url"] = endpoint
    return extra


def _aws_inputs(session_advanced: bool) -> tuple[Input, ...]:
    return (
        secret_in("aws_access_key_id", "AWS Access Key ID", "AWS_ACCESS_KEY_ID", required=True),
        secret_in("aws_secret_access_key", "AWS Secret Access Key", "AWS_SECRET_ACCESS_KEY", required=True),
        secret_in("aws_session_token", "AWS Session Token", advanced=session_advanced),
        secret_in("credentials_profile_name", "Credentials Profile Name", advanced=True),
        dropdown_in("region_name", "Region Name", "us-east-1"),
    )


class AmazonBedrockModel(ChatProviderComponent):
    type_name = "AmazonBedrockModel"
    aliases = ("AmazonBedrockComponent",)
    display_name = "Amazon Bedrock"
    description = "Generate text using Amazon Bedrock LLMs with the legacy ChatBedrock API."
    icon = "Amazon"
    provider = "Amazon Bedrock"
    key_field = ""
    model_field = "model_id"
    default_model = "anthropic.claude-3-haiku-20240307-v1:0"
    inputs = MODEL_BASE_INPUTS + (
        dropdown_in("model_id", "Model ID", "anthropic.claude-3-haiku-20240307-v1:0"),
        *_aws_inputs(session_advanced=False),
        dict_in("model_kwargs", "Model Kwargs", advanced=True, is_list=True),
        text_in("endpoint_url", "Endpoint URL", advanced=True),
    )

    @classmethod
    async def complete_config(cls, component: Component, config: "ModelConfig") -> None:
        config.extra.update(await _aws_extra(component))
        kwargs = component.params.get("model_kwargs")
        if isinstance(kwargs, dict):
            if config.temperature is None and isinstance(kwargs.get("temperature"), (int, float)):
                config.temperature = float(kwargs["temperature"])
            if not config.max_tokens and isinstance(kwargs.get("max_tokens"), int):
                config.max_tokens = kwargs["max_tokens"]


class AmazonBedrockConverseModel(AmazonBedrockModel):
    type_name = "AmazonBedrockConverseModel"
    aliases = ("AmazonBedrockConverseComponent",)
    description = "Generate text using Amazon Bedrock LLMs with the modern Converse API for improved conversation handling."
    default_model = "anthropic.claude-3-5-sonnet-20241022-v2:0"
    extra_fields = {"top_p": "top_p", "top_k": "top_k", "additional_model_fields": "additional_model_fields"}
    inputs = MODEL_BASE_INPUTS + (
        dropdown_in("model_id", "Model ID", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
        *_aws_inputs(session_advanced=True),
        text_in("endpoint_url", "Endpoint URL", advanced=True),
        float_in("temperature", "Temperature", 0.7, advanced=True),
        int_in("max_tokens", "Max Tokens", 4096, advanced=True),
        float_in("top_p", "Top P", 0.9, advanced=True),
        int_in("top_k", "Top K", 250, advanced=True),
        bool_in("disable_streaming", "Disable Streaming", False, advanced=True),
        dict_in("additional_model_fields", "Additional Model Fields", advanced=True, is_list=True),
    )

    async def text_response(self) -> Any:
        if to_bool(self.params.get("disable_streaming")):  # the node asks for one answer, whatever `stream` says
            self.params["stream"] = False
        return await super().text_response()


class AmazonBedrockEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "AmazonBedrockEmbeddings"
    aliases = ("AmazonBedrockEmbeddingsComponent",)
    display_name = "Amazon Bedrock Embeddings"
    description = "Generate embeddings using Amazon Bedrock models."
    icon = "Amazon"
    provider = "Amazon Bedrock"
    key_field = ""
    model_field = "model_id"
    default_model = "amazon.titan-embed-text-v1"
    inputs = (
        dropdown_in("model_id", "Model Id", "amazon.titan-embed-text-v1"),
        secret_in("aws_access_key_id", "AWS Access Key ID", "AWS_ACCESS_KEY_ID", required=True),
        secret_in("aws_secret_access_key", "AWS Secret Access Key", "AWS_SECRET_ACCESS_KEY", required=True),
        secret_in("aws_session_token", "AWS Session Token", "AWS_SESSION_TOKEN"),
        secret_in("credentials_profile_name", "Credentials Profile Name", "AWS_CREDENTIALS_PROFILE_NAME", advanced=True),
        dropdown_in("region_name", "Region Name", "us-east-1"),
        text_in("endpoint_url", "Endpoint URL", advanced=True),
    )

    async def complete_config(self, config: "EmbeddingConfig") -> None:
        config.extra.update(await _aws_extra(self))


# ---- Ollama ---------------------------------------------------------------------------------

# Ollama's runtime options by the node's field names (the wire's names where they differ).
_OLLAMA_OPTIONS = {"mirostat_eta": "mirostat_eta", "mirostat_tau": "mirostat_tau", "num_ctx": "num_ctx", "num_gpu": "num_gpu",
                   "num_thread": "num_thread", "repeat_last_n": "repeat_last_n", "repeat_penalty": "repeat_penalty",
                   "tfs_z": "tfs_z", "top_k": "top_k", "top_p": "top_p"}
_MIROSTAT = {"Mirostat": 1, "Mirostat 2.0": 2}


class OllamaModel(ChatProviderComponent):
    type_name = "OllamaModel"
    aliases = ("ChatOllamaComponent",)
    display_name = "Ollama"
    description = "Generate text using Ollama Local LLMs."
    icon = "Ollama"
    provider = "Ollama"
    url_field = "base_url"
    inputs = (
        str_in("base_url", "Ollama API URL", "http://localhost:11434"),
        dropdown_in("model_name", "Model Name", required=True),
        secret_in("api_key", "Ollama API Key", advanced=True),
        slider_in("temperature", "Temperature", 0.1, advanced=True),
        Input("format", "Format", "table", [], is_list=True, input_kind="TableInput"),
        dict_in("metadata", "Metadata", advanced=True),
        dropdown_in("mirostat", "Mirostat", "Disabled", options=("Disabled", "Mirostat", "Mirostat 2.0"), advanced=True),
        float_in("mirostat_eta", "Mirostat Eta", advanced=True),
        float_in("mirostat_tau", "Mirostat Tau", advanced=True),
        int_in("num_ctx", "Context Window Size", advanced=True),
        int_in("num_gpu", "Number of GPUs", advanced=True),
        int_in("num_thread", "Number of Threads", advanced=True),
        int_in("repeat_last_n", "Repeat Last N", advanced=True),
        float_in("repeat_penalty", "Repeat Penalty", advanced=True),
        float_in("tfs_z", "TFS Z", advanced=True),
        int_in("timeout", "Timeout", advanced=True),
        int_in("top_k", "Top K", advanced=True),
        float_in("top_p", "Top P", advanced=True),
        bool_in("enable_verbose_output", "Ollama Verbose Output", None, advanced=True),
        text_in("tags", "Tags", advanced=True),
        text_in("stop_tokens", "Stop Tokens", advanced=True),
        text_in("system", "System", advanced=True),
        bool_in("tool_model_enabled", "Tool Model Enabled", True),
        text_in("template", "Template", advanced=True),
        bool_in("enable_structured_output", "Enable Structured Output", False),
    ) + MODEL_BASE_INPUTS
    outputs = ChatProviderComponent.outputs + (
        Output("data_output", "build_data_output", ("Data",), "Data"),
        Output("dataframe_output", "build_dataframe_output", ("DataFrame",), "DataFrame"),
    )

    @classmethod
    async def complete_config(cls, component: Component, config: "ModelConfig") -> None:
        params = component.params
        options = {wire: params[field] for field, wire in _OLLAMA_OPTIONS.items() if params.get(field) not in (None, "", 0)}
        if params.get("mirostat") in _MIROSTAT:
            options["mirostat"] = _MIROSTAT[params["mirostat"]]
        stops = [s.strip() for s in to_text(params.get("stop_tokens")).split(",") if s.strip()]
        if stops:
            options["stop"] = stops
        if options:
            config.extra["options"] = options
        if isinstance(params.get("timeout"), (int, float)) and params["timeout"] > 0:
            config.extra["timeout"] = min(float(params["timeout"]), component.ctx.settings.http_timeout_s)
        if to_bool(params.get("enable_structured_output")):
            output_format = _ollama_format(params.get("format"))
            if output_format is not None:
                config.extra["format"] = output_format

    async def _parsed(self) -> Any:
        """The answer as JSON (Langflow's data and table outputs need a JSON answer)."""
        if not hasattr(self, "_response"):
            self._response = await self.text_response()
            await self._response.resolve()
        text = self._response.plain_text
        if not text:
            raise ComponentError(self.id, self.name, "No response from model")
        try:
            return json.loads(text)
        except ValueError:
            raise ComponentError(self.id, self.name, "Invalid JSON response. Ensure model supports JSON output.") from None

    async def build_data_output(self) -> Data:
        parsed = await self._parsed()
        if isinstance(parsed, dict):
            return Data(data=parsed)
        if isinstance(parsed, list):
            return Data(data=parsed[0]) if len(parsed) == 1 and isinstance(parsed[0], dict) else Data(data={"results": parsed})
        return Data(data={"value": parsed})

    async def build_dataframe_output(self) -> DataFrame:
        parsed = await self._parsed()
        rows = parsed if isinstance(parsed, list) else [parsed]
        if not all(isinstance(row, dict) for row in rows):
            raise ComponentError(self.id, self.name, "List items must be dictionaries to convert to DataFrame")
        return DataFrame(rows=[dict(row) for row in rows])


_PLACEHOLDER_ROW = {"name": "field", "description": "description of field", "type": "str", "multiple": "False"}


def _ollama_format(value: Any) -> Any:
    """Ollama's `format`: "json", a JSON schema, or the node's table of fields (Langflow's default
    placeholder row means none)."""
    from flowless_engine.components.agent import schema_from_table

    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list):
        rows = [row for row in value if isinstance(row, dict) and {k: str(v) for k, v in row.items()} != _PLACEHOLDER_ROW]
        return schema_from_table(rows)
    if isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError:
            return value.strip()  # "json"
    return None


class OllamaEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "OllamaEmbeddings"
    aliases = ("OllamaEmbeddingsComponent",)
    display_name = "Ollama Embeddings"
    description = "Generate embeddings using Ollama models."
    icon = "Ollama"
    provider = "Ollama"
    url_field = "base_url"
    model_field = "model_name"
    inputs = (
        dropdown_in("model_name", "Ollama Model", "", required=True),
        str_in("base_url", "Ollama Base URL", "http://localhost:11434", required=True),
        secret_in("api_key", "Ollama API Key", advanced=True),
    )
