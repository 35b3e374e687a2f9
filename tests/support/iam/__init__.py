"""Least privilege, proven from the tests: the AWS calls each function's code makes are recorded
(recorder.py), translated to the IAM requests they take (actions.py) and evaluated (evaluator.py)
against the function's policy in template.yaml (stack.py). tests/iam/ holds the tests; the
plugin (registered in tests/conftest.py) checks every test's calls as it runs.
"""
