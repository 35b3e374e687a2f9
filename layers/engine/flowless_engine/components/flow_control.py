"""Flow control: Loop (items out one by one through its body, results gathered on `done`).

The iteration itself is done by the scheduler (runtime/run.py `run_loop_body`), which knows the
loop's body; the component normalises the input, bounds the number of items and shapes results.
"""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_data_list
from flowless_engine.errors import LimitExceededError
from flowless_engine.schema import Data, DataFrame, Message


def loop_items(value: Any) -> list[Data]:
    """The loop's input as Data items: Table rows, Data, Messages (their text), lists of these."""
    if isinstance(value, Message):
        return [Data(data={"text": value.plain_text})]
    if isinstance(value, list):
        return [item for v in value for item in loop_items(v)]
    return to_data_list(value)


def result_row(value: Any) -> dict[str, Any]:
    """One iteration's fed-back value as a row of the `done` table (Langflow's Data of it)."""
    if isinstance(value, Message):
        from flowless_engine.runtime.results import serialize_message

        return dict(serialize_message(value)["data"])
    if isinstance(value, Data):
        return dict(value.data)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list) and all(isinstance(v, Data) for v in value) and value:
        return dict(value[0].data) if len(value) == 1 else {"items": [v.data for v in value]}
    return {"text": "" if value is None else str(value)}


class LoopComponent(Component):
    type_name = "LoopComponent"
    display_name = "Loop"
    description = "Iterates through Data or Message objects, processing items individually and aggregating results from loop inputs."
    category = "flow_controls"
    icon = "infinity"
    is_loop = True
    inputs = (
        Input("data", "Inputs", "other", "", input_types=("DataFrame", "Table", "Data", "Message"),
              info="Data to iterate over. Accepts DataFrame, Table, Data, or Message.", input_kind="HandleInput"),
    )
    outputs = (
        Output("item", "item_output", ("Data", "JSON"), "Item"),
        Output("done", "done_output", ("DataFrame", "Table"), "Done"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._aggregated: list[dict[str, Any]] | None = None
        self.run_body: Any = None  # set by the scheduler

    def _items(self) -> list[Data]:
        items = loop_items(self.params.get("data"))
        limit = self.ctx.settings.max_loop_iterations
        if len(items) > limit:
            raise LimitExceededError(f"Loop '{self.name}' has {len(items)} items; the limit is {limit} iterations")
        return items

    async def _iterate(self) -> list[dict[str, Any]]:
        if self._aggregated is not None:
            return self._aggregated
        items = self._items()
        self.log(f"Starting loop over {len(items)} item(s)", name="Start")
        rows = []
        for item in items:
            value = await self.run_body(item) if self.run_body is not None else None
            if isinstance(value, Message):
                await value.resolve()
            rows.append(result_row(value))
        self.log(f"Completed {len(rows)} iteration(s)", name="Complete")
        self._aggregated = rows
        return rows

    async def item_output(self) -> Data:
        self.stop("item")  # the body ran inside the loop: nothing downstream of `item` runs again
        await self._iterate()  # once: `done` reads the same results
        items = self._items()
        return Data(data={"count": len(items), "items": [d.data for d in items]})

    async def done_output(self) -> DataFrame:
        self.stop("item")
        return DataFrame(rows=await self._iterate())
