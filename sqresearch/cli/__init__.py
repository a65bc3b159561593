"""The command line (``sqr``) and the runner that executes templates with papermill."""
