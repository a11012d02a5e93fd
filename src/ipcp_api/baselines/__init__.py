"""Baselines: frozen copies of a programme's plan to measure later plans against."""
