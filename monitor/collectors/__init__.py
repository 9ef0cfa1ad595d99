"""One module per area of the host. ``default_collectors`` is the list the sampler runs.

Nothing is imported here: monitor/areas.py (the registry) imports each area's module, and a
module beside this package that an area uses (monitor/mounts.py, monitor/block_devices.py) may
import ``monitor.collectors.base`` without running every area's import first.
"""
from __future__ import annotations


def default_collectors(settings=None):
    """One collector per area of monitor/areas.py (the registry), in its order: the dashboard's
    card order and the order of keys in /api/snapshot. ``settings`` (monitor.settings.Settings)
    reaches the collectors that have options."""
    from monitor.areas import default_collectors as from_registry  # areas imports this package
    return from_registry(settings)
