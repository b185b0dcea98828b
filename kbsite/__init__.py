"""The site's own tooling, apart from paper code.

- ``bibliography``: read ``bibliography.bib`` and format entries (pybtex).
- ``citations``: find ``[@key]`` citations in Markdown and render them as author-year links.
- ``reviews``: read review front matter.
- ``pages``: generated Markdown (paper card, reviews index, bibliography page).
- ``fences``: which code fences of the docs pytest-codeblocks runs, and which it would silently skip.
- ``plugin``: the MkDocs plugin that connects these to the build.
"""
