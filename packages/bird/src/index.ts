export { normalizePrefix, prefixFamily, comparePrefixes } from './prefix';
export type { IpFamily, PrefixResult } from './prefix';
export { parsePrefixFile, renderPrefixFile, formatPythonTimestamp } from './prefix-file';
export type { PrefixFileContent, RenderPrefixFileInput } from './prefix-file';
export { planStartupRepair, planUpdate } from './repair';
export type { Finding, FindingKind, PrefixFilePlan, StartupRepairInput, UpdateInput } from './repair';
export { archivePrefixFile, historyStamp, BirdHistoryError } from './history';
export type { ArchiveResult } from './history';
export { runReconfigure, runCustomReconfigure, classifyBirdReply } from './reconfigure';
export type {
  ReconfigureOutcome,
  ReconfigureOptions,
  ReconfigureStatus,
  ReconfigureFailureKind,
  ReconfigureKind,
  CustomReconfigureOptions,
} from './reconfigure';
export { compareSets, parseBirdSet, verifyBirdVariable } from './verify';
export type { VerifyKind, VerifyOutcome } from './verify';
export { classifyConfigureStatus, configureStatusArgv, waitForConfigureIdle } from './configure-status';
export type { ConfigureState, WaitForIdleOptions, WaitForIdleResult } from './configure-status';
