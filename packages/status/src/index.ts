export { MAX_REQUEST_BYTES, STATUS_PROTOCOL_VERSION, errorReply, parseRequest } from './status-protocol';
export type {
  AddressStatus,
  BirdStatus,
  DaemonStatus,
  SpawnHelperStatus,
  ErrorReply,
  PongReply,
  ServiceStatus,
  StatusReply,
  StatusRequest,
  WorkerStateName,
} from './status-protocol';
export { StatusServer, StatusSocketError } from './status-server';
export type { StatusHandlers } from './status-server';
export { StatusClientError, requestStatus } from './status-client';
export { NAGIOS, nagiosText, perfLabel, renderNagios, renderNagiosFailure, renderTable } from './status-render';
export type { NagiosCode, NagiosResult } from './status-render';
