"""Flowless: Langflow flows served as a Langflow-compatible API on AWS serverless.

The service side (storage, auth, API). Kept import-free on purpose: Lambda cold starts pay only
for the subpackages a function actually uses.
"""

__version__ = "0.1.0"
