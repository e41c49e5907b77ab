"""The core handlers build on: the typed config, the inbound message, the router, the context.

Imports nothing else of bot/, so that handlers/ can depend on it without a loop.
"""
