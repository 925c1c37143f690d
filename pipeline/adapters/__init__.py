"""Thin adapters around outside programs and services (the git command line)."""
