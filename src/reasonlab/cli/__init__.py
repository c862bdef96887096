"""The ``reasonlab`` command line: thin Typer commands over the library."""
