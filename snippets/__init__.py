"""Tested PyTorch snippets, one module per reviewed paper (``snippets.<slug>``).

Each module opens with the paper it implements, its BibTeX key and the review that embeds it.
"""
