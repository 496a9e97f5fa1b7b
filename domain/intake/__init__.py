"""Receiving a request: triage onto one of the five paths, and merging repeats."""
