"""server-monitor's host side: settings, collectors, the sampler and judgment.

Nothing in this package knows about HTTP; views/ reads what it publishes.
"""
