export { createLogger, stdoutSink } from './logger';
export type { Logger, LoggerOptions, LogDestination, LogSink } from './logger';
export { RotatingFileSink } from './rotating-file-sink';
export { SyslogUdpSink } from './syslog-udp-sink';
export { HttpJsonSink } from './http-json-sink';
export { formatJson, formatText, MAIN_THREAD } from './formats';
export type { FormatOptions } from './formats';
export { asctime, levelName, LEVEL_VALUES, SYSLOG_SEVERITY } from './log-record';
export type { LevelName, LogRecord, ServiceLogFields } from './log-record';
