#!/usr/bin/env python3
"""Fork right after a thread that drew a salt exits; count children that hang drawing one.

Thread.join() returns before the OS thread has run its TLS destructors (OpenSSL's per-thread
cleanup, which takes a global RAND lock). A fork in that window copies the lock held; the child's
first RAND_bytes then blocks forever, with the GIL held. Load on the other cores widens the window.

    python tools/fork_race.py [ROUNDS] [c|python]
"""

import os
import signal
import sys
import threading

from agora_token import _fastpack, _pure

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
k = _pure if (sys.argv[2:] or ["c"])[0] == "python" else _fastpack
hung = 0
for _ in range(rounds):
    t = threading.Thread(target=k.random_salt)
    t.start()
    t.join()
    pid = os.fork()
    if pid == 0:
        signal.alarm(10)  # a hung child dies by SIGALRM
        th = threading.Thread(target=k.random_salt)
        th.start()
        th.join()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    hung += os.WIFSIGNALED(status)
print(f"{k.__name__}: {hung} hung children of {rounds}")
sys.exit(1 if hung else 0)
