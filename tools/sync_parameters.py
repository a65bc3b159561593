"""Rewrite a template's `parameters` cell from a demo study's YAML plus the schema defaults.

    python tools/sync_parameters.py notebooks/scorecard.ipynb params/support_desk.yaml

Every declared parameter gets a line (tests/test_project.py checks the cell names exactly the
schema's fields), with the demo study's value where it sets one, else the schema default, so the
template runs top to bottom on the demo data in JupyterLab.
"""

from __future__ import annotations

import pprint
import sys
from pathlib import Path

import nbformat

from sqresearch.io.schemas import STUDY_TYPES
from sqresearch.io.yaml_files import read_yaml

HEADER = ("# Parameters: the defaults run the {demo} demo study. papermill / `sqr run` inject a\n"
          "# study's YAML after this cell; every name here is a declared parameter.")


def parameters_source(params_file: Path) -> str:
    given = read_yaml(params_file.read_text(encoding="utf-8"))
    model = STUDY_TYPES[given["study_type"]]
    full = model.model_validate(given).model_dump(mode="json")
    lines = [HEADER.format(demo=params_file.stem.replace("_", "-"))]
    for name in model.model_fields:
        value = given.get(name, full[name])
        text = pprint.pformat(value, width=92 - len(name), sort_dicts=False)
        lines.append(f"{name} = " + text.replace("\n", "\n" + " " * (len(name) + 3)))
    return "\n".join(lines)


def main(notebook: str, params_file: str) -> None:
    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = parameters_source(Path(params_file))
    nbformat.write(nb, notebook)
    print(f"{notebook}: parameters cell rewritten from {params_file}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
