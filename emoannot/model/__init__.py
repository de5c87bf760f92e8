"""Torch modules (expression CNN, unimodal heads, RJCMA) and the weights registry."""
