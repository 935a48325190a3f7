// The daemon's log records in their three line shapes (docs/logging.md):
//   text      `YYYY-MM-DD HH:MM:SS,mmm anycast-healthchecker[PID] LEVEL    THREAD   MESSAGE`
//   journald  `<P>THREAD - MESSAGE` (log_format_journalctl = true; P is the syslog severity)
//   json      `anycast-healthchecker: {...}` (json_stdout / json_log_file)
// and the "checked" records operators' alerting reads: which messages they are, and the
// sequence of them in one thread column, for comparison with an expected list.

export type RecordShape = 'text' | 'journald' | 'json';
export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

export interface LogRecord {
  readonly shape: RecordShape;
  readonly raw: string;
  readonly level: string;
  /** The thread column: a service name or `MainThread`. */
  readonly thread: string;
  readonly message: string;
  /** text and json: the timestamp text. */
  readonly asctime?: string;
  /** text and json: the process id. */
  readonly pid?: number;
  /** json: the whole object. */
  readonly json?: Readonly<Record<string, unknown>>;
  /** text: the whitespace after the level and after the thread (for padding reports). */
  readonly padding?: { readonly afterLevel: string; readonly afterThread: string };
}

export const JOURNALD_SEVERITY: Readonly<Record<Level, number>> = { DEBUG: 7, INFO: 6, WARNING: 4, ERROR: 3, CRITICAL: 2 };
const LEVEL_OF_SEVERITY = new Map<number, Level>(Object.entries(JOURNALD_SEVERITY).map(([l, p]) => [p, l as Level]));

export const ASCTIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$/;
const TEXT = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) anycast-healthchecker\[(\d+)\] ([A-Z]+)( +)(\S+)( +)(.*)$/;
const JOURNALD = /^<(\d)>(\S+) - (.*)$/;
export const JSON_PREFIX = 'anycast-healthchecker: ';

/** Parse one output line as a record of `shape`; undefined when it is not one. */
export function parseRecord(raw: string, shape: RecordShape): LogRecord | undefined {
  if (shape === 'text') {
    const m = TEXT.exec(raw);
    if (m === null) return undefined;
    return {
      shape,
      raw,
      asctime: m[1],
      pid: Number(m[2]),
      level: m[3] ?? '',
      thread: m[5] ?? '',
      message: m[7] ?? '',
      padding: { afterLevel: m[4] ?? '', afterThread: m[6] ?? '' },
    };
  }
  if (shape === 'journald') {
    const m = JOURNALD.exec(raw);
    if (m === null) return undefined;
    const severity = Number(m[1]);
    return { shape, raw, level: LEVEL_OF_SEVERITY.get(severity) ?? `<${severity}>`, thread: m[2] ?? '', message: m[3] ?? '' };
  }
  if (!raw.startsWith(JSON_PREFIX)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw.slice(JSON_PREFIX.length));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    shape,
    raw,
    json: o,
    level: str(o.levelname),
    thread: str(o.service_name),
    message: str(o.message),
    asctime: str(o.asctime),
    ...(typeof o.process === 'number' ? { pid: o.process } : {}),
  };
}

/** Any of the three shapes (text first); undefined for a line that is no record at all. */
export function parseAnyRecord(raw: string): LogRecord | undefined {
  return parseRecord(raw, 'text') ?? parseRecord(raw, 'json') ?? parseRecord(raw, 'journald');
}

// The messages operators' parsers key on, recognised loosely so that a near miss (a wrong
// count, a suffix) shows up in the compared sequence instead of vanishing from it.
const CHECKED_SERVICE: readonly RegExp[] = [
  /^going (up|down)\b/,
  /^changed to\b/,
  /^status (UP|DOWN)\b/i,
  /^adding \S+ in the queue/,
  /^check timed out/,
  /isn't assigned to \S+ interface/,
  /^check is disabled/i,
  /^check is now permanently disabled/i,
];
const CHECKED_MAIN: readonly RegExp[] = [
  /^returned an item from the queue/,
  /^(announcing|withdrawing) \S+ for /,
  /^Bird configuration for IPv\d is updated/,
  /^Bird configuration doesn't have IP prefixes/,
  /^reconfiguring BIRD\b/,
  /^reconfigured BIRD\b/,
  /^no updates for bird configuration/,
  /^found \S+ IP prefixes in Bird configuration/,
  /^found IP prefixes /,
  /^removing IP prefix/,
  /^starting anycast-healthchecker\b/,
  /^received \d+ at\b/,
  /^going to remove pidfile/,
  /^shutdown is complete/,
];

export function isCheckedRecord(record: LogRecord): boolean {
  const patterns = record.thread === 'MainThread' ? CHECKED_MAIN : CHECKED_SERVICE;
  return patterns.some((p) => p.test(record.message));
}

/** `LEVEL message`, the form expected sequences are written in. */
export function levelAndMessage(record: LogRecord): string {
  return `${record.level} ${record.message}`;
}

/** The checked records of one thread column, as `LEVEL message`, in arrival order. */
export function checkedSequence(records: readonly LogRecord[], thread: string): string[] {
  return records.filter((r) => r.thread === thread && isCheckedRecord(r)).map(levelAndMessage);
}

/**
 * Replace the message of every `received N at ...` record by `received N at …` (the text after
 * `at` is free), so sequences can be compared literally.
 */
export function normaliseFreeText(entry: string): string {
  return entry.replace(/^(INFO received \d+ at)\b.*$/, '$1 …');
}

/** Text-shape padding rules: level left-aligned in 8 columns, thread column `width` wide. */
export function paddingProblems(records: readonly LogRecord[], threadWidth: number): string[] {
  const problems = new Set<string>();
  for (const r of records) {
    if (r.padding === undefined) continue;
    const levelField = `${r.level}${r.padding.afterLevel}`;
    const wantLevel = `${r.level.padEnd(8)} `;
    if (levelField !== wantLevel) problems.add(`level ${JSON.stringify(levelField)} instead of ${JSON.stringify(wantLevel)}`);
    const threadField = `${r.thread}${r.padding.afterThread}`;
    const wantThread = `${r.thread.padEnd(threadWidth)} `;
    if (threadField !== wantThread) problems.add(`thread ${JSON.stringify(threadField)} instead of ${JSON.stringify(wantThread)}`);
  }
  return [...problems];
}
