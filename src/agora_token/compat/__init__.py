"""Drop-in replacements for Agora's official python3 token modules.

Each module here carries the name of a module in Agora's ``DynamicKey/AgoraDynamicKey/python3/src``
folder and offers the same classes, functions, parameter names, defaults and return values, so that
moving off the official code is a change of import line::

    # from src.RtcTokenBuilder2 import RtcTokenBuilder, Role_Publisher
    from agora_token.compat.RtcTokenBuilder2 import RtcTokenBuilder, Role_Publisher

The bytes still come from this package's kernel (C or pure Python) through its core classes, so the
tokens are the official ones. Where Agora's modules differ between releases this layer follows the
current folder: every service added is kept (several of one type included), Streaming, FCdn, RTM2,
ConvoAI and STT services exist, ``from_string`` stops quietly at an unknown service type, and
``verify_signature`` checks a parsed 007 token. It never prints.

``agoraiotools`` mirrors the top level of the PyPI packaging instead, where ``RtcTokenBuilder2``
and the other names are classes: ``from agora_token.compat.agoraiotools import RtcTokenBuilder2``.

``pinned(issue_ts=..., salt=...)`` fixes the issue time and salt of the compat tokens built inside
its ``with`` block, for reproducible output and to check byte identity with Agora's code.

Modules: ``AccessToken2`` (007 core), ``AccessToken`` (006 core), ``RtcTokenBuilder`` and
``RtmTokenBuilder`` (006 builders), ``RtcTokenBuilder2``, ``RtmTokenBuilder2``, ``ChatTokenBuilder2``,
``apaas_token_builder``, ``education_token_builder``, ``fpa_token_builder``, ``convoai_token_builder``
and ``stt_token_builder`` (007 builders).
"""

from ._common import pinned

MODULES = (
    "AccessToken2",
    "AccessToken",
    "RtcTokenBuilder",
    "RtmTokenBuilder",
    "RtcTokenBuilder2",
    "RtmTokenBuilder2",
    "ChatTokenBuilder2",
    "apaas_token_builder",
    "education_token_builder",
    "fpa_token_builder",
    "convoai_token_builder",
    "stt_token_builder",
    "agoraiotools",
)

__all__ = ["MODULES", "pinned"]
