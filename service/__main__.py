"""`python -m service ...`: the same command line as `planenet`."""

import sys

from service.cli import main

if __name__ == "__main__":
    sys.exit(main())
