"""Typed models parsed at the edge. The domain never sees raw dicts.

Every model is declared with `defer_build=True`: pydantic builds a model's validator the first time it
is used, so a function pays at cold start only for the models it validates, not for every model its
imports declare.
"""
