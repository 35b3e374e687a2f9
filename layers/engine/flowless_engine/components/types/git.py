"""Git repositories over smart HTTP (components/git.py, flowless_engine/gitfetch.py)."""

TYPES: dict[str, str] = {
    "GitExtractorComponent": "git:GitExtractorComponent",
    "GitLoaderComponent": "git:GitLoaderComponent",
}
