/**
 * The one clock for schedules, timeouts, backoff, heartbeats and stall decisions: CLOCK_MONOTONIC
 * in milliseconds. It is the same clock in every thread of the process (unlike
 * `performance.now()`, whose origin is each thread's start), so the main thread can hand its
 * reading to a worker as the schedule's anchor. No step of the wall clock (NTP, a router that
 * booted with a wrong RTC, an operator's `date -s`) moves it. Wall time (`Date.now()`) is only
 * for what people read: log timestamps, "last check at", file headers. See docs/design.md.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
