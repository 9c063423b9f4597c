/* sd_notify: systemd's notification protocol (READY=1, STOPPING=1,
 * WATCHDOG=1, STATUS=...) without linking libsystemd: one datagram to
 * $NOTIFY_SOCKET. A no-op when not run by systemd. */
#ifndef POSETRACKD_SD_NOTIFY_H
#define POSETRACKD_SD_NOTIFY_H

#include <stdint.h>

void sd_notify_send(const char *state);
/* The watchdog interval systemd asked for, in microseconds, or 0. */
uint64_t sd_notify_watchdog_usec(void);

#endif
