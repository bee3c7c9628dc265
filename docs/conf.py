"""Sphinx configuration. Build: sphinx-build -W --keep-going -n docs docs/_build/html"""

project = "ExaWorks SDK"
author = "ExaWorks SDK contributors"
copyright = "ExaWorks SDK contributors"

extensions = ["myst_parser"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "README.md", "generated"]
html_theme = "furo"
html_static_path = ["_static"]
html_title = "ExaWorks SDK"
nitpicky = True
