"""Run the command line as `python -m publisher`."""

from publisher.cli import main

main()
