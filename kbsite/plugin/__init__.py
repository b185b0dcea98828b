"""The MkDocs plugin ``kb``: wires the knowledge base's jobs into the build.

- ``config``: the plugin's options;
- ``plugin``: the plugin class, which only connects MkDocs events to the modules below;
- ``navigation``: reviews (by topic) and API pages added to the ``nav``;
- ``api_pages``: the generated ``api/<slug>.md`` page of each snippet module;
- ``topic_pages``: the generated page of each topic, listing its reviews;
- ``generated``: generated pages that a ``--dirty`` build renders again only when their sources changed;
- ``paper_card``: the paper box and the cite box under a review's title;
- ``indexes``: the reviews index table and each review's related reviews;
- ``bibliography_page``: the bibliography page, generated from ``bibliography.bib``.

Citations are rendered by :mod:`kbsite.citations`, raw HTML is checked by :mod:`kbsite.html_policy`; the content
checker uses both too.
"""

from kbsite.plugin.plugin import KbPlugin

__all__ = ["KbPlugin"]
