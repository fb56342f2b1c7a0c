"""`python -m gridwatch.cli`: the `gridwatch` command."""

from gridwatch.cli import main

main()
