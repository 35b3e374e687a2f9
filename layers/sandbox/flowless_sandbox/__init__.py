"""The sandbox runtime: runs one vertex of approved user code per call (the code runner protocol
of flowless_engine/runtime/code.py). Deployed as the CustomCodeFunction (Lambda tenant isolation,
no IAM permissions) and run locally as a subprocess with limits. Never imported by the engine
layer or the run functions."""
