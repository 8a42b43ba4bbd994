/**
 * In-memory implementations of the core's ports (queue, store, archive stream, secret source) and
 * recording telemetry, with failure injection, for handler tests that need no AWS and no emulator.
 */
import { BlobNotFoundError, SecretNotConfiguredError, UnknownSourceError } from '../../lambda/core/errors.js';
import type {
  ArchiveStream,
  BlobPutOptions,
  BlobStore,
  CallOptions,
  EventQueue,
  EventStore,
  HandlerRunRecord,
  HandlerRunsUpdate,
  PutResult,
  QueueMessage,
  SecretSource,
  StoredBlob,
  StoredEvent,
} from '../../lambda/core/ports.js';
import type { LogFields, Logger, MetricName, Metrics } from '../../lambda/core/telemetry.js';

/**
 * A call that never finishes on its own (a stuck connection): it settles only when its abort
 * signal fires, rejecting with the signal's reason, as the SDK does.
 */
export function hangUntilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Queue port that keeps what it is sent. `failWith` makes every send reject; `hang` makes sends
 * wait until their abort signal fires (a queue slower than any deadline), then reject.
 */
export class InMemoryQueue implements EventQueue {
  readonly messages: QueueMessage[] = [];
  /** The options each send was given, in call order (including sends that failed). */
  readonly sendOptions: Array<CallOptions | undefined> = [];
  failWith: Error | undefined;
  hang = false;

  async send(message: QueueMessage, options?: CallOptions): Promise<void> {
    this.sendOptions.push(options);
    if (this.failWith) throw this.failWith;
    if (this.hang) return hangUntilAborted(options?.signal);
    this.messages.push(message);
  }
}

/**
 * Blob port over a map, with the S3 adapter's semantics (a missing key throws
 * `BlobNotFoundError`; deleting a missing key is fine) and failure injection per operation and key.
 */
export class InMemoryBlobStore implements BlobStore {
  readonly objects = new Map<string, StoredBlob>();
  readonly calls: Array<{ op: 'put' | 'get' | 'delete'; key: string }> = [];
  /** Return an error to make that call reject. */
  fail: (op: 'put' | 'get' | 'delete', key: string) => Error | undefined = () => undefined;
  /** Return true to make that call wait for its abort signal (a stuck request). */
  hang: (op: 'put' | 'get' | 'delete', key: string) => boolean = () => false;

  constructor(readonly bucket = 'archive-bucket') {}

  private async enter(op: 'put' | 'get' | 'delete', key: string, signal: AbortSignal | undefined): Promise<void> {
    this.calls.push({ op, key });
    const err = this.fail(op, key);
    if (err) throw err;
    if (this.hang(op, key)) await hangUntilAborted(signal);
  }

  async put(key: string, body: Uint8Array, options: BlobPutOptions = {}): Promise<void> {
    await this.enter('put', key, options.signal);
    this.objects.set(key, { body: Buffer.from(body), metadata: { ...options.metadata } });
  }

  async get(key: string, options: CallOptions = {}): Promise<StoredBlob> {
    await this.enter('get', key, options.signal);
    const blob = this.objects.get(key);
    if (!blob) throw new BlobNotFoundError(key);
    return { body: Buffer.from(blob.body), metadata: { ...blob.metadata } };
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    await this.enter('delete', key, options.signal);
    this.objects.delete(key);
  }

  /** Keys under a prefix, sorted. */
  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

/** A stored event plus what the store keeps next to it, as the fake store keeps it. */
export interface FakeStoreItem {
  readonly event: StoredEvent;
  readonly handlersDone: Set<string>;
  readonly handlerRuns: Record<string, HandlerRunRecord>;
  /** As the item's `archivePending`: set by the put, cleared by a round that archived. */
  archivePending?: string;
}

/**
 * Store port with the semantics of the DynamoDB adapter (conditional put, handler runs and the
 * archive mark on the item) and per-call failure injection.
 */
export class InMemoryEventStore implements EventStore {
  readonly items = new Map<string, FakeStoreItem>();
  readonly putCalls: StoredEvent[] = [];
  /** Each `recordHandlerRuns` call, as given. */
  readonly runCalls: Array<{ eventId: string; done: string[]; runs: Record<string, HandlerRunRecord>; archived: boolean }> = [];
  /** Return an error to make `putIfAbsent` of that event reject. */
  failPut: (event: StoredEvent) => Error | undefined = () => undefined;
  /** Return an error to make `recordHandlerRuns` reject. */
  failRecord: (eventId: string, update: HandlerRunsUpdate) => Error | undefined = () => undefined;

  async putIfAbsent(event: StoredEvent): Promise<PutResult> {
    this.putCalls.push(event);
    const err = this.failPut(event);
    if (err) throw err;
    const existing = this.items.get(event.eventId);
    if (existing) {
      return {
        created: false,
        handlersDone: new Set(existing.handlersDone),
        handlerRuns: { ...existing.handlerRuns },
        ...(existing.archivePending !== undefined ? { archivePending: existing.archivePending } : {}),
      };
    }
    this.items.set(event.eventId, {
      event,
      handlersDone: new Set(),
      handlerRuns: {},
      ...(event.archivePending !== undefined ? { archivePending: event.archivePending } : {}),
    });
    return { created: true };
  }

  async recordHandlerRuns(eventId: string, update: HandlerRunsUpdate): Promise<void> {
    if (Object.keys(update.runs).length === 0 && update.done.length === 0 && !update.archived) return;
    this.runCalls.push({ eventId, done: [...update.done], runs: { ...update.runs }, archived: update.archived });
    const err = this.failRecord(eventId, update);
    if (err) throw err;
    const item = this.items.get(eventId);
    if (!item) throw new Error(`no event item ${eventId}`);
    for (const key of Object.keys(item.handlerRuns)) delete item.handlerRuns[key];
    Object.assign(item.handlerRuns, update.runs);
    for (const n of update.done) item.handlersDone.add(n);
    if (update.archived) delete item.archivePending;
  }
}

/**
 * Archive port that records each `putLines` call. `reject` marks lines as not accepted (reported
 * in `failedIndexes`); `failWith` makes the whole call reject, as when the stream is down.
 */
export class InMemoryArchiveStream implements ArchiveStream {
  readonly calls: string[][] = [];
  /** Every accepted line, in order. */
  readonly lines: string[] = [];
  failWith: Error | undefined;
  reject: (line: string, index: number) => boolean = () => false;

  async putLines(lines: readonly string[]): Promise<{ failedIndexes: number[] }> {
    this.calls.push([...lines]);
    if (this.failWith) throw this.failWith;
    const failedIndexes: number[] = [];
    lines.forEach((line, i) => {
      if (this.reject(line, i)) failedIndexes.push(i);
      else this.lines.push(line);
    });
    return { failedIndexes };
  }
}

/**
 * Secret port over a map of source → acceptable secrets (current first), or → an error to throw.
 * A source absent from the map is unknown. Counts lookups, so caching can be asserted.
 */
export class FakeSecretSource implements SecretSource {
  readonly lookups: string[] = [];

  constructor(private readonly secrets: Record<string, readonly string[] | Error>) {}

  async secretsFor(source: string): Promise<readonly string[]> {
    this.lookups.push(source);
    if (!Object.hasOwn(this.secrets, source)) throw new UnknownSourceError(source);
    const value = this.secrets[source];
    if (value instanceof Error) throw value;
    if (!value || value.length === 0) throw new SecretNotConfiguredError(source, 'no secrets');
    return value;
  }
}

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  readonly level: LogLevelName;
  readonly message: string;
  readonly fields: LogFields;
}

/** Logger port that records every entry at every level, including DEBUG. */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];

  debug(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'debug', message, fields });
  }

  info(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'info', message, fields });
  }

  warn(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'warn', message, fields });
  }

  error(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'error', message, fields });
  }

  at(level: LogLevelName): LogEntry[] {
    return this.entries.filter((e) => e.level === level);
  }

  /** Every entry as the JSON line a structured logger would write, for "never logs X" checks. */
  lines(): string[] {
    return this.entries.map((e) => JSON.stringify({ level: e.level, message: e.message, ...e.fields }));
  }
}

/** Metrics port that sums counts per name (dimensions kept per call). */
export class RecordingMetrics implements Metrics {
  readonly calls: Array<{ name: MetricName; value: number; dimensions?: Record<string, string> }> = [];

  count(name: MetricName, value = 1, dimensions?: Record<string, string>): void {
    this.calls.push({ name, value, ...(dimensions ? { dimensions } : {}) });
  }

  total(name: MetricName): number {
    return this.calls.filter((c) => c.name === name).reduce((s, c) => s + c.value, 0);
  }
}
