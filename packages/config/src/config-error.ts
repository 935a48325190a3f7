import { AhcError } from '@ahc/errors';
import type { ErrorCode } from '@ahc/errors';

/** A configuration problem, always naming where it is. `code` is stable (docs/errors.md). */
export interface ConfigLocation {
  readonly file?: string;
  readonly line?: number;
  readonly section?: string;
  readonly option?: string;
  readonly value?: string;
}

export class ConfigError extends AhcError<ConfigLocation> {
  override name = 'ConfigError';
  readonly location: ConfigLocation;
  constructor(code: ErrorCode, message: string, location: ConfigLocation = {}) {
    super(code, message, { details: location });
    this.location = location;
  }
}

/** `/etc/x.d/web.conf:4: [web] check_interval = 'abc': <reason>` */
export function describeLocation(loc: ConfigLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.line === undefined ? `${loc.file}:` : `${loc.file}:${loc.line}:`);
  if (loc.section !== undefined) {
    let what = `[${loc.section}]`;
    if (loc.option !== undefined) what += ` ${loc.option}`;
    if (loc.value !== undefined) what += ` = '${loc.value}'`;
    parts.push(`${what}:`);
  }
  return parts.join(' ');
}

export function configError(code: ErrorCode, reason: string, loc: ConfigLocation): ConfigError {
  const where = describeLocation(loc);
  return new ConfigError(code, where === '' ? reason : `${where} ${reason}`, loc);
}
