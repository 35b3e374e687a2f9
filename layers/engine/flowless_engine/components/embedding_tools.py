"""Embedding utilities: Text Embedder (one message → its vector, with any provider's embeddings
node wired in) and Embedding Similarity (two vectors → cosine, Euclidean or Manhattan)."""

from __future__ import annotations

import math
from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_data_list, to_text
from flowless_engine.errors import ComponentError
from flowless_engine.schema import Data, Message

_METRICS = ("Cosine Similarity", "Euclidean Distance", "Manhattan Distance")


class TextEmbedderComponent(Component):
    type_name = "TextEmbedderComponent"
    display_name = "Text Embedder"
    description = "Generate embeddings for a given message using the specified embedding model."
    category = "embeddings"
    icon = "binary"
    inputs = (
        Input("embedding_model", "Embedding Model", "other", "", input_types=("Embeddings",), required=True, input_kind="HandleInput"),
        Input("message", "Message", "str", "", input_types=("Message",), input_kind="MessageInput"),
    )
    outputs = (Output("embeddings", "generate_embeddings", ("JSON",), "Embedding Data"),)

    async def generate_embeddings(self) -> Data:
        from flowless_engine.llm.embeddings import EmbeddingConfig

        config = self.params.get("embedding_model")
        if not isinstance(config, EmbeddingConfig):
            raise ComponentError(self.id, self.name, "connect an embeddings component to 'Embedding Model'")
        message = self.params.get("message")
        if isinstance(message, Message):
            await message.resolve()
        text = to_text(message)
        if not text:
            raise ComponentError(self.id, self.name, "the message to embed is empty")
        vector = (await self.ctx.embedder(config).embed_documents([text]))[0]
        self.status = f"{len(vector)} dimensions"
        return Data(data={"text": text, "embeddings": vector})


class EmbeddingSimilarityComponent(Component):
    type_name = "EmbeddingSimilarityComponent"
    display_name = "Embedding Similarity"
    description = "Compute selected form of similarity between two embedding vectors."
    category = "embeddings"
    icon = "equal"
    inputs = (
        Input("embedding_vectors", "Embedding Vectors", "other", "", input_types=("Data", "JSON"), is_list=True, required=True, input_kind="JSONInput"),
        Input("similarity_metric", "Similarity Metric", "str", "Cosine Similarity", options=_METRICS, input_kind="DropdownInput"),
    )
    outputs = (Output("similarity_data", "compute_similarity", ("JSON",), "Similarity Data"),)

    async def compute_similarity(self) -> Data:
        rows = to_data_list(self.params.get("embedding_vectors"))
        if len(rows) != 2:
            raise ComponentError(self.id, self.name, f"exactly two embedding vectors are required, got {len(rows)}")
        first, second = (_vector(self, row) for row in rows)
        score: dict[str, Any]
        if len(first) != len(second):
            score = {"error": "Embeddings must have the same dimensions."}
        else:
            metric = to_text(self.param("similarity_metric", "Cosine Similarity"))
            if metric == "Euclidean Distance":
                score = {"euclidean_distance": math.sqrt(sum((a - b) ** 2 for a, b in zip(first, second)))}
            elif metric == "Manhattan Distance":
                score = {"manhattan_distance": sum(abs(a - b) for a, b in zip(first, second))}
            else:
                norms = math.sqrt(sum(a * a for a in first)) * math.sqrt(sum(b * b for b in second))
                score = {"cosine_similarity": sum(a * b for a, b in zip(first, second)) / norms if norms else 0.0}
        self.status = score
        return Data(data={"embedding_1": first, "embedding_2": second, "similarity_score": score}, text_key="similarity_score")


def _vector(component: Component, row: Data) -> list[float]:
    vector = row.data.get("embeddings")
    if not isinstance(vector, list):
        raise ComponentError(component.id, component.name, "each input needs an 'embeddings' list (a Text Embedder's output)")
    return [float(x) for x in vector]
