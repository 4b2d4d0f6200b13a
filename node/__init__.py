"""Nightshift worker node."""
