"""Reading a run's small text files."""


def read_text(path, default=""):
    """The whole file, or `default` when it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default
