"""Helpers shared by tests: real servers on loopback, never stand-ins for them."""
