"""Langflow's File Description Generator natively: for each file named by the Read File rows it is
given (`file_path`), the tenant's file is read as text (what the File component reads), shortened,
and the wired language model writes a searchable description of it; one row `{text, file_path}`
per file, for a vector store's Ingest Data. Langflow runs an external ingestion package in a
subprocess for this; Flowless runs no subprocess and keeps no cache on disk (`cache_dir` and
`embedding_model`, its cache keys, are accepted and unused). Inputs without a `file_path` are
skipped, as in Langflow; any file without a description fails the node, naming the files."""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath

from flowless_engine.components.base import Component, Input, Output, to_int, to_text
from flowless_engine.errors import ConfigurationError, FlowError, ProviderTimeoutError
from flowless_engine.schema import Data, DataFrame, Message

MAX_FILE_CHARS = 12_000  # the shortened document the model reads
PROMPT = (
    "You write the description of a file that will be stored in a search index so that the file can be found later.\n"
    "Describe what the file is, its purpose, the topics, entities, time periods and kinds of data it contains, and the "
    "questions it can answer. Write plain prose in at most 200 words; do not invent content.\n\n"
    "File name: {name}\n\nFile content (possibly shortened):\n{content}"
)


def shorten(text: str, limit: int = MAX_FILE_CHARS) -> str:
    """The first `limit` characters, cut at a line when possible, marked as shortened."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip() + "\n[... shortened ...]"


class FileDescriptionGeneratorComponent(Component):
    type_name = "FileDescriptionGeneratorComponent"
    display_name = "File Description Generator"
    description = ("Runs OpenDsStar docling-based ingestion to generate searchable file descriptions. "
                   "Connect output to a vector store's Ingest Data input.")
    icon = "file-search"
    inputs = (
        Input("file_data", "File Data", "other", "", input_types=("Data", "DataFrame", "Message"), is_list=True,
              info="Output from a Read File component.", input_kind="HandleInput"),
        Input("llm", "Language Model", "other", "", input_types=("LanguageModel",), info="LLM used to generate file descriptions.",
              input_kind="HandleInput"),
        Input("cache_dir", "Cache Directory", "str", "./opendsstar_cache", advanced=True, input_kind="StrInput",
              info="Directory for caching docling analysis and LLM descriptions."),
        Input("embedding_model", "Embedding Model", "str", "ibm-granite/granite-embedding-english-r2", advanced=True, input_kind="StrInput",
              info="Embedding model name (used only for cache keying, not for actual embedding)."),
        Input("timeout", "Timeout (seconds)", "int", 3600, advanced=True, input_kind="IntInput",
              info="Maximum time in seconds for describing the files. Increase for large file sets."),
        Input("batch_size", "Batch Size", "int", 8, advanced=True, input_kind="IntInput", info="Number of files to process in each LLM batch."),
    )
    outputs = (Output("descriptions", "generate_descriptions", ("JSON",), "Descriptions"),)

    def file_paths(self) -> list[str]:
        raw = self.params.get("file_data")
        items = raw if isinstance(raw, list) else [raw] if raw not in (None, "") else []
        paths: list[str] = []
        for i, item in enumerate(items):
            if isinstance(item, DataFrame):
                found = [str(r.get("file_path")) for r in item.rows if r.get("file_path")]
                paths.extend(dict.fromkeys(found))
                if not found:
                    self.log(f"item[{i}] table has no file_path column, skipping")
            elif isinstance(item, Data):
                if item.data.get("file_path"):
                    paths.append(str(item.data["file_path"]))
                else:
                    self.log(f"item[{i}] Data has no file_path key, skipping")
            elif isinstance(item, Message):
                path = getattr(item, "file_path", "") or ""
                if path:
                    paths.append(str(path))
                else:
                    self.log(f"item[{i}] Message has no file_path, skipping")
            else:
                self.log(f"item[{i}] unsupported type {type(item).__name__}, skipping")
        return list(dict.fromkeys(paths))

    async def _text(self, path: str) -> str:
        from flowless_engine.components.files import FileComponent

        return await FileComponent._read_text(self, path)  # type: ignore[arg-type]  # the File component's readers

    def _decode(self, raw: bytes, name: str) -> str:
        from flowless_engine.components.files import FileComponent

        return FileComponent._decode(self, raw, name)  # type: ignore[arg-type]

    async def generate_descriptions(self) -> list[Data]:
        paths = self.file_paths()
        if not paths:
            self.log("No file paths found, returning empty list")
            return []
        from flowless_engine.components.agents_legacy import wired_model_config
        from flowless_engine.llm.base import ChatMessage, ModelConfig

        if not isinstance(self.params.get("llm"), ModelConfig):
            raise ConfigurationError(f"{self.name}: connect a Language Model to describe the files")
        config = await wired_model_config(self, "llm")
        model = self.ctx.chat_model(config)
        gate = asyncio.Semaphore(max(1, to_int(self.param("batch_size", 8), 8)))

        async def describe(path: str) -> tuple[str, str | None, str | None]:
            async with gate:
                try:
                    content = shorten(await self._text(path))
                except (ValueError, OSError, FlowError) as exc:
                    return path, None, str(exc)
                if not content:
                    return path, None, "the file has no text"
                prompt = PROMPT.format(name=PurePosixPath(path).name, content=content)
                result = await model.complete([ChatMessage(role="user", content=prompt)])
                self.add_usage(result.usage)
                return path, to_text(result.text).strip(), None

        timeout = max(to_int(self.param("timeout", 3600), 3600), 1)
        try:
            done = await asyncio.wait_for(asyncio.gather(*(describe(p) for p in paths)), timeout)
        except asyncio.TimeoutError as exc:
            raise ProviderTimeoutError(f"{self.name}: describing {len(paths)} file(s) took longer than {timeout}s. "
                                       "Increase the Timeout setting for large file sets.") from exc
        failed: dict[str, list[str]] = {}
        for path, text, error in done:
            if error is not None or not text:
                failed.setdefault(error or "the model answered nothing", []).append(PurePosixPath(path).name)
        if failed:
            count = sum(len(v) for v in failed.values())
            lines = [f"Ingestion failed: {count}/{len(paths)} files did not get descriptions."]
            lines += [f"  - {reason}: {names[:5]}{f' (and {len(names) - 5} more)' if len(names) > 5 else ''}" for reason, names in failed.items()]
            raise ConfigurationError("\n".join(lines))
        results = [Data(data={"text": text, "file_path": path}) for path, text, _ in done]
        for row in results:
            self.log(f"Created description: file: {row.data['file_path']}\ndescription:\n{row.data['text']}")
        return results
