export { createLogger, stdoutSink } from './logger';
export type { Logger, LoggerOptions, LogSink } from './logger';
export { formatJson, formatText, MAIN_THREAD } from './formats';
export type { FormatOptions } from './formats';
export { asctime, levelName, LEVEL_VALUES, SYSLOG_SEVERITY } from './log-record';
export type { LevelName, LogRecord, ServiceLogFields } from './log-record';
