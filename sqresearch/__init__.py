"""sqresearch: a Jupyter research workbench for service-quality studies.

The public surface is small: ``run_study`` / ``validate_study`` (the runner), ``Results`` (what a
template records), the typed errors, and the study modules used by the templates.
"""

from .errors import DataError, ParamsError, StatisticalWarning, UserInputError

__version__ = "0.1.0"
__all__ = ["DataError", "ParamsError", "StatisticalWarning", "UserInputError", "__version__"]
