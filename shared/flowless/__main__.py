import sys

from flowless.cli import main

sys.exit(main())
