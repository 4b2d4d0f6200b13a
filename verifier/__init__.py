"""Nightshift verifier node."""
