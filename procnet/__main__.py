"""``python3 -m procnet ...``: the same command line as the ``procnet`` script."""

from .cli import run

if __name__ == "__main__":
    run()
