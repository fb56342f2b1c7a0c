"""Synthetic camera scenes, rendered deterministically from a seed and a timeline."""
