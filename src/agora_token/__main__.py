"""``python -m agora_token``: the same as the ``agora-token`` command."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
