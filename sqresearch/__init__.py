"""sqresearch: a Jupyter research workbench for service-quality studies.

The public surface is small: the typed errors here; ``runner.run_study`` / ``validate_study``;
``results.Results`` (what a template records); and the study modules the templates use
(``scorecard``, ``before_after``, ``control_group``, ``gap_model``).
"""

from sqresearch.io.errors import DataError, ParamsError, UserInputError

__version__ = "0.1.0"
__all__ = ["DataError", "ParamsError", "UserInputError", "__version__"]
