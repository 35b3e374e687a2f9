"""Tenants' API keys (stored hashed) and the scopes they grant."""
