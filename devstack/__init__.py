"""The local stack (emulator, gateway, poller built from template.yaml) and the medialib CLI.

Never deployed to Lambda.
"""
