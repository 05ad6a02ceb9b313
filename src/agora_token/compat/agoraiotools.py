"""Drop-in for the top level of the PyPI package ``agoraiotools`` 0.3.4 (Agora's python3 code).

``from agoraiotools import RtcTokenBuilder2`` becomes
``from agora_token.compat.agoraiotools import RtcTokenBuilder2``: every name of agoraiotools'
``__all__`` is here and is what agoraiotools binds it to at its top level, which is not always the
module of that name. Its ``__init__`` rebinds ``AccessToken`` to the 007 token class (a later
star-import shadows the 006 one), ``RtcTokenBuilder`` and ``RtmTokenBuilder`` are the 006 builders,
and ``RtcTokenBuilder2``/``RtmTokenBuilder2`` the 007 ones. ``__version__`` is the agoraiotools
release this layer mirrors, not this package's version (that is ``agora_token.__version__``).
"""

from __future__ import annotations

from .AccessToken2 import (
    AccessToken,
    Service,
    ServiceApaas,
    ServiceChat,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm,
)
from .AccessToken2 import AccessToken2 as _AccessToken2Alias
from .apaas_token_builder import ApaasTokenBuilder
from .ChatTokenBuilder2 import ChatTokenBuilder, ChatTokenBuilder2
from .education_token_builder import EducationTokenBuilder
from .fpa_token_builder import FpaTokenBuilder
from .RtcTokenBuilder import RtcTokenBuilder
from .RtcTokenBuilder2 import RtcTokenBuilder2
from .RtmTokenBuilder import RtmTokenBuilder
from .RtmTokenBuilder2 import RtmTokenBuilder2

#: The 007 token class under its historical name (in agoraiotools a subclass of AccessToken).
AccessToken2 = _AccessToken2Alias

#: The agoraiotools release whose top level this module mirrors.
__version__ = "0.3.4"

__all__ = [
    "AccessToken",
    "AccessToken2",
    "RtcTokenBuilder",
    "RtcTokenBuilder2",
    "RtmTokenBuilder",
    "RtmTokenBuilder2",
    "EducationTokenBuilder",
    "FpaTokenBuilder",
    "ApaasTokenBuilder",
    "__version__",
]

# Also reachable from agoraiotools' top level, though not in its __all__ (its star-imports bring them).
_ALSO = (ChatTokenBuilder, ChatTokenBuilder2, Service, ServiceApaas, ServiceChat, ServiceFpa, ServiceRtc, ServiceRtm)
