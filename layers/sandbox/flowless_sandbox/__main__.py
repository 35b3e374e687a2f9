"""Local sandbox entry: one JSON call on stdin, one JSON answer on stdout (then the process ends).

Started by flowless/local/sandbox.py as `python -I <this file>` with a clean environment and
resource limits; `-I` keeps PYTHONPATH and the user site out, so the path is set here.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from flowless_sandbox.execute import main_json

    answer = main_json(sys.stdin.read())
    sys.stdout.write(answer)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
