"""``python -m generator`` runs the ``selfinstruct`` command."""

from generator.cli.app import main

main()
