"""Sphinx configuration of nfit's documentation: the pages in docs/ (Markdown, through MyST) and the
API reference from the numpydoc docstrings. Built in CI with warnings as errors:
``sphinx-build -W --keep-going -b html docs docs/_build/html``."""
import nfit

project = "nfit"
author = "the nfit developers"
release = nfit.__version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon",
              "sphinx.ext.viewcode"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "make_figure.py"]
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_param = False  # parameter types as text: "pdf or list of pdfs" is prose, not a cross-reference
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autosummary_generate = False
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]
html_theme = "alabaster"
