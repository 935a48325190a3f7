export { monotonicMs } from './clock';
export { INITIAL_COUNTERS, LOG_LEVELS, isLogLevel, logLevelRank, prefixFamilies, prefixesText } from './service-spec';
export type { CheckCounters, Family, IpPrefix, LogLevel, OnDisabled, ServiceCheckSpec, ServiceState } from './service-spec';
export { HEARTBEAT_INTERVAL_MS, serializeError } from './messages';
export type {
  ErrorMessage,
  FaultKind,
  FaultMessage,
  FromWorker,
  HeartbeatMessage,
  IpStateMessage,
  LogMessage,
  ResultMessage,
  RunNowMessage,
  SerializedError,
  SpawnCancelMessage,
  SpawnRequestMessage,
  SpawnResult,
  SpawnResultMessage,
  SpawnVia,
  StartMessage,
  StopMessage,
  ToWorker,
  TransitionMessage,
} from './messages';
export { parseFromWorker, parseToWorker, ProtocolError } from './validate';
