"""Providers with a protocol of their own that no other node shares: Cloudflare Workers AI
embeddings; and Langflow's Fake Embeddings (vectors without a model, for wiring flows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowless_engine.components.base import Input, to_bool
from flowless_engine.components.providers_base import EmbeddingsProviderComponent, bool_in, int_in, secret_in, text_in

if TYPE_CHECKING:
    from flowless_engine.llm.embeddings import EmbeddingConfig


class CloudflareWorkersAIEmbeddings(EmbeddingsProviderComponent):
    type_name = "CloudflareWorkersAIEmbeddings"
    display_name = "Cloudflare Workers AI Embeddings"
    description = "Generate embeddings using Cloudflare Workers AI models."
    icon = "Cloudflare"
    provider = "Cloudflare Workers AI"
    key_field = "api_token"
    url_field = "api_base_url"
    model_field = "model_name"
    default_model = "@cf/baai/bge-base-en-v1.5"
    extra_fields = {"account_id": "account_id", "batch_size": "batch_size", "headers": "headers"}
    inputs = (
        text_in("account_id", "Cloudflare account ID", required=True),
        secret_in("api_token", "Cloudflare API token", required=True),
        text_in("model_name", "Model Name", "@cf/baai/bge-base-en-v1.5", required=True),
        bool_in("strip_new_lines", "Strip New Lines", True, advanced=True),
        int_in("batch_size", "Batch Size", 50, advanced=True),
        text_in("api_base_url", "Cloudflare API base URL", "https://api.cloudflare.com/client/v4/accounts", advanced=True),
        Input("headers", "Headers", "dict", {}, advanced=True, is_list=True, input_kind="DictInput"),
    )

    async def complete_config(self, config: "EmbeddingConfig") -> None:
        config.extra["strip_new_lines"] = to_bool(self.param("strip_new_lines", True))


class FakeEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "LangChainFakeEmbeddings"
    display_name = "Fake Embeddings"
    description = "Generate fake embeddings, useful for initial testing and connecting components."
    icon = "LangChain"
    provider = "Fake Embeddings"
    key_field = ""
    model_field = ""
    default_model = "fake"
    inputs = (int_in("dimensions", "Dimensions", 5),)
