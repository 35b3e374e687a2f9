"""Native implementations of Langflow components, one module per family (see registry.py)."""
