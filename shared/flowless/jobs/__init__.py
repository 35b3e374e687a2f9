"""Build jobs: the worker that runs a build step by step (`worker`), and the runners that drive
it, Step Functions' BuildJob state machine or an in-process task (`starter`)."""
