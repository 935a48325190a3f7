#!/bin/sh
# /usr/bin/anycast-healthchecker: runs the bundled program with the system's Node.js (>= 20.19).
# The program and its check-worker bundle live side by side in /usr/lib/anycast-healthchecker;
# exec keeps the pid, so systemd, start-stop-daemon and the pidfile see the daemon itself.
exec /usr/bin/node /usr/lib/anycast-healthchecker/main.mjs "$@"
