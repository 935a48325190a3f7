import type { ErrorCode } from './error-codes';

export interface AhcErrorOptions<D> {
  readonly cause?: unknown;
  /** Structured facts for code (a path, an OS error code, a config location), never for display. */
  readonly details?: D;
}

/**
 * The base of every error the program reports (docs/errors.md): a stable `code` from the table
 * and a `name` set by each subclass as a string literal (class names do not survive the
 * minified worker bundle). Across threads it travels as `{name, code, message, stack}`.
 */
export class AhcError<D extends object = object> extends Error {
  override name = 'AhcError';
  readonly code: ErrorCode;
  readonly details: Readonly<D> | undefined;

  constructor(code: ErrorCode, message: string, options: AhcErrorOptions<D> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

/** The code of an error that has one (ours or an OS errno such as ENOENT), else null. */
export function errnoCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

/** The message of an Error, or the thrown value as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
