"""``python -m bench``: the HTTP benchmark against the floor (see bench/README.md)."""

from bench.harness import main

main()
