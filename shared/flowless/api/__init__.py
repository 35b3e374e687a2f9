"""FastAPI routers, one module per route group, plus error mapping and auth dependencies."""
