"""The enrollment journey in a real browser against a real Home Assistant and ``ruview serve``."""
