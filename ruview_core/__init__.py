"""RuView engine: camera-free room sensing from ESP32 WiFi CSI."""

__version__ = "0.1.0"
