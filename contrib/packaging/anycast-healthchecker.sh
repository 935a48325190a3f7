#!/bin/sh
# /usr/bin/anycast-healthchecker: runs the bundled program with the system's Node.js (>= 20.19).
# The program and its check-worker bundle live side by side in /usr/lib/anycast-healthchecker;
# exec keeps the pid, so systemd, start-stop-daemon and the pidfile see the daemon itself.
# --jitless: V8 interprets only. The daemon runs little JavaScript, and without the JIT every
# thread (one per check by default) needs about 1.8 MiB less memory and less CPU (docs/design.md).
exec /usr/bin/node --jitless --no-expose-wasm /usr/lib/anycast-healthchecker/main.mjs "$@"
