"""``python -m kefu.cli`` runs the command line."""

from kefu.cli import main

main()
