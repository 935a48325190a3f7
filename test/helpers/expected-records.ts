// Expected checked records (docs/logging.md), as `LEVEL message`, for the one-service bed.
import { PREFIX, SERVICE } from './acceptance-bed.js';

export const ADDING = `INFO adding ${PREFIX} in the queue`;
export const NOT_ASSIGNED = [
  `WARNING ${PREFIX} isn't assigned to lo interface`,
  `WARNING status DOWN because ${PREFIX} isn't assigned to lo interface.`,
];
export const ONLY_DUMMY =
  "WARNING Bird configuration doesn't have IP prefixes for any of the services we monitor! It means local node doesn't receive any traffic";

export const starting = (version: string): string => `INFO starting anycast-healthchecker version ${version}`;

export function returned(action: 'add to' | 'delete from', service = SERVICE, prefix = PREFIX): string {
  return `INFO returned an item from the queue for ${service} with IP prefix ${prefix} and action to ${action} Bird configuration`;
}

export function reconfigured(cmd: string): string[] {
  return ['INFO Bird configuration for IPv4 is updated', `INFO reconfiguring BIRD by running ${cmd}`, 'INFO reconfigured BIRD daemon'];
}

/** MainThread after a queued add that changes the file. */
export function announced(cmd: string): string[] {
  return [returned('add to'), `INFO announcing ${PREFIX} for ${SERVICE}`, ...reconfigured(cmd)];
}

/** MainThread after a queued delete that leaves only the dummy prefix. */
export function withdrawn(cmd: string): string[] {
  const [updated, ...rest] = reconfigured(cmd);
  return [returned('delete from'), `INFO withdrawing ${PREFIX} for ${SERVICE}`, updated as string, ONLY_DUMMY, ...rest];
}

export function stopped(pidfile: string): string[] {
  return ['INFO received 15 at …', `INFO going to remove pidfile ${pidfile}`, 'INFO shutdown is complete'];
}
