import { RecordIOError } from '../errors.ts';

/**
 * RecordIO, the framing of Mesos's streaming HTTP responses (the scheduler API's SUBSCRIBE
 * stream, the executor API's, the operator API's): every record is its length in bytes as ASCII
 * decimal digits, a `\n`, then exactly that many bytes (here a JSON document).
 *
 *     20\n{"type":"HEARTBEAT"}
 *
 * The length counts the record's bytes only; nothing separates one record from the next.
 *
 * @example
 * res.write(encodeRecord(JSON.stringify(event)));
 *
 * const reader = new RecordIOReader();
 * res.on('data', (chunk) => {
 *   for (const record of reader.push(chunk)) handle(JSON.parse(record.toString('utf8')));
 * });
 */

/** Default bound on one record a reader accepts: 64 MiB, far above any event Mesos sends. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** One record framed: `<byte length>\n<bytes>`. */
export function encodeRecord(record: string | Uint8Array): Buffer {
  const bytes = typeof record === 'string' ? Buffer.from(record, 'utf8') : Buffer.from(record);
  return Buffer.concat([Buffer.from(`${bytes.length}\n`, 'ascii'), bytes]);
}

const NEWLINE = 0x0a;
/** Digits of a length longer than this cannot be a sane record (2^53 has 16). */
const MAX_LENGTH_DIGITS = 16;

/**
 * Incremental RecordIO decoder, as Mesos's `recordio::Decoder`: feed it chunks as they arrive
 * (split anywhere, even inside the length), get back the records completed so far. A length that
 * is not decimal digits, or a record over `maxRecordBytes`, throws `RecordIOError`; the reader
 * is unusable afterwards, as the stream has lost its framing.
 */
export class RecordIOReader {
  readonly #max: number;
  #buffer: Buffer = Buffer.alloc(0);
  /** Length of the record being read, once its header is complete. */
  #expect: number | undefined;
  #failed: RecordIOError | undefined;

  constructor(options: { maxRecordBytes?: number } = {}) {
    this.#max = options.maxRecordBytes ?? MAX_RECORD_BYTES;
  }

  /** Bytes held that do not make a whole record yet. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Adds `chunk`; returns every record it completes, in order. */
  push(chunk: Uint8Array): Buffer[] {
    if (this.#failed !== undefined) throw this.#failed;
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
    const records: Buffer[] = [];
    for (;;) {
      if (this.#expect === undefined) {
        const newline = this.#buffer.indexOf(NEWLINE);
        if (newline === -1) {
          if (this.#buffer.length > MAX_LENGTH_DIGITS) this.#fail(`record length '${this.#preview(this.#buffer)}...' is not a decimal byte count`);
          break;
        }
        const header = this.#buffer.subarray(0, newline).toString('latin1');
        if (!/^[0-9]{1,16}$/.test(header)) this.#fail(`record length '${this.#preview(Buffer.from(header, 'latin1'))}' is not a decimal byte count`);
        const length = Number(header);
        if (length > this.#max) this.#fail(`record length ${length} exceeds the limit of ${this.#max} bytes`);
        this.#expect = length;
        this.#buffer = this.#buffer.subarray(newline + 1);
      }
      if (this.#buffer.length < this.#expect) break;
      records.push(Buffer.from(this.#buffer.subarray(0, this.#expect)));
      this.#buffer = this.#buffer.subarray(this.#expect);
      this.#expect = undefined;
    }
    return records;
  }

  /** The stream ended: throws `RecordIOError` if a record was cut short. */
  end(): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#expect !== undefined || this.#buffer.length > 0) {
      const got = this.#buffer.length;
      this.#fail(this.#expect === undefined ? `stream ended inside a record length ('${this.#preview(this.#buffer)}')` : `stream ended after ${got} of ${this.#expect} bytes of a record`);
    }
  }

  #preview(bytes: Buffer): string {
    return JSON.stringify(bytes.subarray(0, 20).toString('latin1')).slice(1, -1);
  }

  #fail(reason: string): never {
    this.#failed = new RecordIOError(reason);
    throw this.#failed;
  }
}

/**
 * The records of a byte stream (a `node:http` response, a web `ReadableStream`), as they
 * complete. Throws `RecordIOError` on broken framing or a stream cut inside a record.
 *
 * @example
 * for await (const record of readRecords(res)) console.log(JSON.parse(record.toString()));
 */
export async function* readRecords(stream: AsyncIterable<Uint8Array>, options: { maxRecordBytes?: number } = {}): AsyncGenerator<Buffer> {
  const reader = new RecordIOReader(options);
  for await (const chunk of stream) yield* reader.push(chunk);
  reader.end();
}
