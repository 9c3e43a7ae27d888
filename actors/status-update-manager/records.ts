import { StatusUpdateSchema, type StatusUpdate } from '../../src/mesos/protocol.ts';
import { safeParseWith } from '../../src/mesos/v1/validate.ts';

/**
 * The records of a stream's checkpoint file, one JSON object per line, as Mesos's
 * `StatusUpdateRecord` (`UPDATE` carries the update, `ACK` the uuid it acknowledges):
 *
 *     {"type":"UPDATE","update":{...}}
 *     {"type":"ACK","uuid":"q1Vx0v3nQ8m0Hk1sZ9f0Ig=="}
 *
 * Parsing is pure: bytes in, records and the length of their valid prefix out, so recovery can
 * cut a torn last line (a crash in the middle of an append) off the file.
 */

export type CheckpointRecord = { type: 'UPDATE'; update: StatusUpdate } | { type: 'ACK'; uuid: string };

/** One line of the file, terminated by `\n`. */
export function encodeRecord(record: CheckpointRecord): string {
  return `${JSON.stringify(record)}\n`;
}

export interface ParsedRecord {
  readonly record: CheckpointRecord;
  /** Byte offset just past this record's newline. */
  readonly end: number;
}

export interface ParsedRecords {
  readonly records: ParsedRecord[];
  /** Bytes of the file's prefix that holds `records` (where a repaired file ends). */
  readonly validLength: number;
  /**
   * Why reading stopped before the end of the data: `torn` when the last line has no newline
   * (an append cut short: it was never answered, so dropping it loses nothing), `corrupt` when a
   * complete line does not hold a record.
   */
  readonly problem?: { readonly kind: 'torn' | 'corrupt'; readonly line: number; readonly reason: string };
}

const NEWLINE = 0x0a;

/**
 * Reads records up to the first line that is not one.
 *
 * @example
 * parseRecords(Buffer.from('{"type":"ACK","uuid":"x"}\n{"type":"UP'));
 * // { records: [{ record: { type: 'ACK', uuid: 'x' }, end: 26 }], validLength: 26,
 * //   problem: { kind: 'torn', line: 2, reason: 'no newline at the end of the file' } }
 */
export function parseRecords(data: Buffer): ParsedRecords {
  const records: ParsedRecord[] = [];
  let start = 0;
  let line = 0;
  while (start < data.length) {
    line++;
    const newline = data.indexOf(NEWLINE, start);
    if (newline < 0) {
      return { records, validLength: start, problem: { kind: 'torn', line, reason: 'no newline at the end of the file' } };
    }
    const text = data.toString('utf8', start, newline);
    const end = newline + 1;
    if (text.trim() !== '') {
      const record = decodeRecord(text);
      if (typeof record === 'string') return { records, validLength: start, problem: { kind: 'corrupt', line, reason: record } };
      records.push({ record, end });
    }
    start = end;
  }
  return { records, validLength: start };
}

/** The record in `text`, or why it is not one. */
function decodeRecord(text: string): CheckpointRecord | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (json === null || typeof json !== 'object') return 'not a JSON object';
  const fields = json as Record<string, unknown>;
  if (fields.type === 'ACK') {
    return typeof fields.uuid === 'string' && fields.uuid !== '' ? { type: 'ACK', uuid: fields.uuid } : `'uuid' must be a non-empty string, got ${JSON.stringify(fields.uuid)}`;
  }
  if (fields.type === 'UPDATE') {
    const parsed = safeParseWith(StatusUpdateSchema, fields.update, { what: 'checkpointed status update' });
    return parsed.ok ? { type: 'UPDATE', update: parsed.value } : parsed.error.message;
  }
  return `'type' must be 'UPDATE' or 'ACK', got ${JSON.stringify(fields.type)}`;
}
