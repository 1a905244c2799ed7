"""The ``selfinstruct`` command line (typer + rich)."""
