"""How busy the whole machine is, for the noise checks of ``run.py`` and ``threads.py``.

One copy, so both scripts judge "other processes were busy" by the same count.
"""

from __future__ import annotations

import os


def busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (Linux /proc/stat); 0.0 elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
