"""IBM watsonx.ai nodes: the chat model (IBMwatsonxModel, older `WatsonxComponent`) and the
embeddings. The key is exchanged for an IAM token by the client (llm/watsonx.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowless_engine.components.base import Component, to_text
from flowless_engine.components.providers_base import (
    MODEL_BASE_INPUTS,
    ChatProviderComponent,
    EmbeddingsProviderComponent,
    bool_in,
    dropdown_in,
    int_in,
    secret_in,
    slider_in,
    str_in,
)

if TYPE_CHECKING:
    from flowless_engine.llm.base import ModelConfig
    from flowless_engine.llm.embeddings import EmbeddingConfig

WATSONX_URLS = (
    "https://us-south.ml.cloud.ibm.com", "https://eu-de.ml.cloud.ibm.com", "https://eu-gb.ml.cloud.ibm.com",
    "https://au-syd.ml.cloud.ibm.com", "https://jp-tok.ml.cloud.ibm.com", "https://ca-tor.ml.cloud.ibm.com",
)


async def _project(component: Component) -> str | None:
    project = to_text(component.params.get("project_id")).strip()
    return project or await component.ctx.variable("WATSONX_PROJECT_ID")


class IBMwatsonxModel(ChatProviderComponent):
    type_name = "IBMwatsonxModel"
    display_name = "IBM watsonx.ai"
    description = "Generate text using IBM watsonx.ai foundation models."
    icon = "WatsonxAI"
    provider = "IBM watsonx"
    url_field = "base_url"
    extra_fields = {
        "top_p": "top_p",
        "seed": "seed",
        "frequency_penalty": "body.frequency_penalty",
        "presence_penalty": "body.presence_penalty",
    }
    inputs = MODEL_BASE_INPUTS + (
        dropdown_in("base_url", "watsonx API Endpoint", "https://us-south.ml.cloud.ibm.com", options=WATSONX_URLS, required=True),
        str_in("project_id", "watsonx Project ID"),
        str_in("space_id", "watsonx Space ID"),
        secret_in("api_key", "Watsonx API Key", required=True),
        dropdown_in("model_name", "Model Name", required=True),
        int_in("max_tokens", "Max Tokens", 1000, advanced=True),
        str_in("stop_sequence", "Stop Sequence", advanced=True),
        slider_in("temperature", "Temperature", 0.1, advanced=True),
        slider_in("top_p", "Top P", 0.9, advanced=True),
        slider_in("frequency_penalty", "Frequency Penalty", 0.5, advanced=True),
        slider_in("presence_penalty", "Presence Penalty", 0.3, advanced=True),
        int_in("seed", "Random Seed", 8, advanced=True),
        bool_in("logprobs", "Log Probabilities", True, advanced=True),
        int_in("top_logprobs", "Top Log Probabilities", 3, advanced=True),
        str_in("logit_bias", "Logit Bias", advanced=True),
    )

    @classmethod
    async def complete_config(cls, component: Component, config: "ModelConfig") -> None:
        config.extra["project_id"] = await _project(component)
        stop = to_text(component.params.get("stop_sequence")).strip()
        if stop:
            config.extra.setdefault("body", {})["stop"] = [stop]


class WatsonxEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "WatsonxEmbeddingsComponent"
    display_name = "IBM watsonx.ai Embeddings"
    description = "Generate embeddings using IBM watsonx.ai models."
    icon = "WatsonxAI"
    provider = "IBM watsonx"
    url_field = "url"
    model_field = "model_name"
    extra_fields = {"truncate_input_tokens": "truncate_input_tokens"}
    inputs = (
        dropdown_in("url", "watsonx API Endpoint", "https://us-south.ml.cloud.ibm.com", options=WATSONX_URLS),
        str_in("project_id", "watsonx project id"),
        str_in("space_id", "watsonx space id"),
        secret_in("api_key", "Watsonx API Key", required=True),
        dropdown_in("model_name", "Model Name", required=True),
        int_in("truncate_input_tokens", "Truncate Input Tokens", 200, advanced=True),
        bool_in("input_text", "Include the original text in the output", True, advanced=True),
    )

    async def complete_config(self, config: "EmbeddingConfig") -> None:
        config.extra["project_id"] = await _project(self)
