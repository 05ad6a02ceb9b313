"""The App Certificate the server signs with, and its rotation without a restart (standard library only).

``SigningCertificate.value`` is what the routes read, once per request: one attribute. When the
certificate comes from a file (``--app-certificate-file``, ``APP_CERTIFICATE_FILE``), the file is
re-read on SIGHUP and whenever its identity changes (``poll``: inode, device, size and modification
time, through symlinks, since a Kubernetes Secret update swaps a symlink rather than writing the
file). A new certificate is checked before it is used: a malformed one is refused with a log line and
the old one stays. The log redaction learns the new certificate before any token is signed with it,
so neither the old nor the new one ever reaches a log line.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable, Optional

from ..validation import check_certificate
from .config import ConfigError, read_certificate_file

log = logging.getLogger("agora_token.server")

#: What identifies one version of the file: (device, inode, size, modification time in ns).
Stamp = tuple[int, int, int, int]


def _stamp(path: str) -> Optional[Stamp]:
    try:
        st = os.stat(path)  # follows the symlinks a Kubernetes Secret volume is made of
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class SigningCertificate:
    """The certificate tokens are signed with now (``value``), and where to re-read it from (``path``)."""

    __slots__ = ("value", "path", "_stamp", "_lock", "_learn")

    def __init__(self, value: str, path: Optional[str] = None, learn: Optional[Callable[[str], None]] = None) -> None:
        self.value = check_certificate(value)
        self.path = path
        self._stamp = _stamp(path) if path else None
        self._lock = threading.Lock()  # SIGHUP and the file watch may both reload at once
        #: Told each new certificate before it is used (the log redaction).
        self._learn = learn

    def reload(self, why: str) -> bool:
        """Re-read the file now; True when the certificate changed. Never raises: a bad file is logged and ignored."""
        if not self.path:
            log.info("%s: the App Certificate comes from the environment, not a file: nothing to re-read", why)
            return False
        with self._lock:
            self._stamp = _stamp(self.path)
            try:
                value = read_certificate_file(self.path)
            except ConfigError as exc:
                log.error("%s: %s; the App Certificate in use stays", why, exc)
                return False
            if value == self.value:
                log.info("%s: the App Certificate in %r is unchanged", why, self.path)
                return False
            if self._learn is not None:
                self._learn(value)  # before any token is signed with it
            self.value = value
        log.info("%s: signing with the new App Certificate from %r from now on", why, self.path)
        return True

    def poll(self) -> bool:
        """Reload if the file is another version than the one last read; True when the certificate changed."""
        if not self.path:
            return False
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._stamp:  # a file briefly missing mid-swap is looked at again next time
            return False
        return self.reload("the App Certificate file changed")


__all__ = ["SigningCertificate"]
