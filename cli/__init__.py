"""The `selfinstruct` command line: typer commands at the edge of the library (entry point `cli.app:main`)."""
