export { AhcError, describeError, errnoCode } from './ahc-error';
export type { AhcErrorOptions } from './ahc-error';
export { ERR, ERROR_CODES, codeOf, isErrorCode } from './error-codes';
export type { ErrorCode } from './error-codes';
