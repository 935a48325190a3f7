#ifndef AHC_WATCH_ADDRESSES_H
#define AHC_WATCH_ADDRESSES_H

/* `ahc-spawn --watch-addresses [PID]`, watch-addresses.c. */
int watch_addresses_main(int argc, char **argv);

/* ahc-spawn.c: "ahc-spawn: " and the message on stderr, then exit(code). */
void die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

#endif
