"""The local stack: emulator, gateway and poller built from template.yaml, and the medialib CLI. Never deployed."""
