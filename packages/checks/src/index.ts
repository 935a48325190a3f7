export { CheckLoop } from './check-loop';
export type { CheckLoopDeps } from './check-loop';
export { recordCheck, recordIpUnassigned } from './rise-fall';
export type { Step, Thresholds } from './rise-fall';
export { nextTick } from './schedule';
export { addressBytes, inPrefix, isPrefixAssigned, networkKey, onInterface } from './ip-assignment';
export { runCheckWorker } from './worker-entry';
export { HostSpawner } from './host-spawner';
