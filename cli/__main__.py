"""``python -m cli`` runs the ``selfinstruct`` command line."""

from cli.app import main

if __name__ == "__main__":
    main()
