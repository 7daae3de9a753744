"""The shell command that reproduces a training artefact, as written into its record.json."""

PYTHON = "/usr/bin/python3"  # Debian's python3-torch lives here, not in whatever python3 is first on PATH


def reproduce(module: str, **flags) -> str:
    """`reproduce("train", id="x", resume=True, lr=None)` -> '/usr/bin/python3 -m scripts.train.train --id x --resume'.

    True -> a bare flag; None or False -> left out (so defaults stay implicit); a trailing _ escapes a
    Python keyword."""
    parts = [PYTHON, "-m", f"scripts.train.{module}"]
    for name, value in flags.items():
        if value is None or value is False:
            continue
        parts.append("--" + name.rstrip("_").replace("_", "-"))  # with_ -> --with
        if value is not True:
            parts.append(str(value))
    return " ".join(parts)
