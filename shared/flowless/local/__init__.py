"""Local stand-ins for the AWS services, used by `flowless run` and tests."""
