"""``python3 -m procnet ...``: the same command line as the ``procnet`` script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
