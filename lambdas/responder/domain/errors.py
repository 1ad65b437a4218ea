"""Errors the containment steps raise. Their class names are the error names the workflow records."""

from __future__ import annotations


class ContainmentError(RuntimeError):
    """A containment action could not be applied, or the resource is not verified as contained."""


class RestoreMismatch(RuntimeError):
    """A restored attribute does not equal its recorded pre-state."""
