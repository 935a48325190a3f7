#ifndef AHC_WATCH_ADDRESSES_H
#define AHC_WATCH_ADDRESSES_H

/* `ahc-spawn --watch-addresses [PID]`, watch-addresses.c. */
int watch_addresses_main(int argc, char **argv);

#endif
