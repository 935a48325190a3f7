#!/bin/sh
# /usr/bin/anycast-healthchecker: runs the bundled program with the system's Node.js (>= 20.19;
# the tested runtime is 24, see docs/operations.md).
# The program and its check-worker bundle live side by side in /usr/lib/anycast-healthchecker;
# exec keeps the pid, so systemd, start-stop-daemon and the pidfile see the daemon itself.
# --jitless: V8 interprets only. The daemon runs little JavaScript, and without the JIT every
# thread (one per check by default) needs about 1.8 MiB less memory and less CPU (docs/design.md).
# Node.js 20 and 22 also need --no-expose-wasm, or V8 warns on stderr that --jitless turns
# WebAssembly off; Node.js 24 no longer warns and rejects that flag as a bad option.
# --max-semi-space-size=1: the main thread's young generation stays small (docs/design.md, "Memory").
case "$(/usr/bin/node --version 2>/dev/null)" in
  v20.* | v21.* | v22.* | v23.*) exec /usr/bin/node --jitless --no-expose-wasm --max-semi-space-size=1 /usr/lib/anycast-healthchecker/main.mjs "$@" ;;
esac
exec /usr/bin/node --jitless --max-semi-space-size=1 /usr/lib/anycast-healthchecker/main.mjs "$@"
