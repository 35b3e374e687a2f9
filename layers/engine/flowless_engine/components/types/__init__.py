"""Type tables: one module per component family, each a plain `TYPES` dict of
`data.type` → "module:Class" (module relative to flowless_engine.components).

A family adds its own module here instead of editing a shared table; the registry merges them
all on first use. These modules hold data only, so reading them imports no component.
"""
