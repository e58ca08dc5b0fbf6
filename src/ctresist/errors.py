"""The one user-facing error type: the CLI turns it into one stderr line and exit status 1."""
from __future__ import annotations


class InputError(ValueError):
    """Bad user input: the message names the file, the line/record and what is wrong."""
