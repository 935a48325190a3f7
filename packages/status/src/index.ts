export { MAX_REQUEST_BYTES, STATUS_PROTOCOL_VERSION, errorReply, parseRequest } from './status-protocol';
export type {
  AddressStatus,
  BirdStatus,
  DaemonStatus,
  DrainFileStatus,
  StateFileStatus,
  DrainStatus,
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
export { STATUS_CLIENT, StatusClientError, requestLine, requestStatus } from './status-client';
export type { SocketClientKind } from './status-client';
export { LineSocketServer, SocketServerError } from './line-server';
export type { LineServerOptions } from './line-server';
export { CONTROL_PROTOCOL_VERSION, MAX_REASON_LENGTH, controlError, parseControlRequest } from './control-protocol';
export type { ControlErrorReply, ControlPong, ControlReply, ControlRequest, DrainReply, ReloadReply } from './control-protocol';
export { ControlServer } from './control-server';
export type { ControlHandler } from './control-server';
export { CONTROL_CLIENT, requestControl } from './control-client';
export { NAGIOS, describeDrain, nagiosText, perfLabel, renderNagios, renderNagiosFailure, renderTable } from './status-render';
export type { NagiosCode, NagiosResult } from './status-render';
