"""Simulated devices and scenes: cameras, sensors, scenarios and load generation."""
