"""Primary and secondary App Certificates: which of the two signed a token.

An Agora project has two certificates so that one can be rotated while the other keeps signing:
a token signed with either is valid for the project. ``signed_by`` is the one comparison both token
models (``token006``, ``token007``) make; it never returns or echoes a certificate, only its name.
"""

from __future__ import annotations

import hmac
from typing import Callable, Literal, Optional

#: Which certificate signed a token: the one given first ("primary") or the other ("secondary").
CertificateName = Literal["primary", "secondary"]


def signed_by(
    signature: bytes, sign: Callable[[str], bytes], primary: str, secondary: Optional[str] = None
) -> Optional[CertificateName]:
    """ "primary" or "secondary" when ``sign(certificate)`` equals ``signature`` (constant-time), else None.

    The callers check both certificates' form first (``validation.check_certificate``), so a malformed
    secondary is an error even when the primary signed the token.
    """
    if hmac.compare_digest(sign(primary), signature):
        return "primary"
    if secondary is not None and hmac.compare_digest(sign(secondary), signature):
        return "secondary"
    return None


__all__ = ["CertificateName", "signed_by"]
