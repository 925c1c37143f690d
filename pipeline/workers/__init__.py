"""The consume -> transform -> produce/index -> commit loops."""
