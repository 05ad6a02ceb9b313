"""The limits both kernels and the legacy parser share: one home, so they cannot drift apart.

The C kernel reads these at import (its C code has the same numbers as macros and checks them here).
"""

#: A parsed 007 token is refused when its payload inflates past this many bytes.
MAX_PAYLOAD = 1 << 20
#: A token string longer than this is refused before any decoding. The largest payload a parser
#: accepts (``MAX_PAYLOAD``) deflates to at most ~1.0005 MiB and so base64-encodes to ~1.4 M
#: characters; twice the payload leaves room and still bounds the work a hostile string can cause.
MAX_TOKEN_LENGTH = 2 * MAX_PAYLOAD
#: The salt range of Agora's python3 reference code (``randint(1, 99999999)``).
SALT_MAX = 99999999
#: The largest values of the wire's unsigned 16- and 32-bit fields.
U16_MAX = 0xFFFF
U32_MAX = 0xFFFFFFFF
