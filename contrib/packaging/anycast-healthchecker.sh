#!/bin/sh
# /usr/bin/anycast-healthchecker: runs the bundled program on the Node.js that the package
# carries (/usr/lib/anycast-healthchecker/node, the version pinned in the source tree; used by
# this program only, whatever node the system has).
# The program, its check-worker bundle, the ahc-spawn helper and the ahc-release-pages.node
# addon live side by side in /usr/lib/anycast-healthchecker; exec keeps the pid, so systemd,
# start-stop-daemon and the pidfile see the daemon itself.
# --jitless: V8 interprets only. The daemon runs little JavaScript, and without the JIT every
# thread (one per check by default) needs about 1.8 MiB less memory and less CPU (docs/design.md).
# --lite-mode: V8 trades speed for memory, about 1.4 MiB less per busy thread (docs/design.md, "Memory").
# --max-semi-space-size=1: the main thread's young generation stays small (docs/design.md, "Memory").
exec /usr/lib/anycast-healthchecker/node --jitless --lite-mode --max-semi-space-size=1 /usr/lib/anycast-healthchecker/main.mjs "$@"
