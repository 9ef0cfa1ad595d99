"""Logs: configured sources (files and the journal), bounded reads, filters and live following.

Knows nothing about HTTP: views/logs.py turns requests into calls on ``sources``, ``reader`` and
the ``LogHub`` of followers, and never passes a request's text to the file system or a command.
"""
