/**
 * Test helpers for handler authors: build an event from a sample, run a handler on it with a
 * recording Social Plus API, and assert what it called, in a few lines:
 *
 * ```ts
 * const event = sampleEvent('message.didFlag', (e) => { e.data.messages![0]!.flagCount = 9; });
 * const run = await runHandler(myHandler, event);
 * expect(run.calls).toEqual([{ action: 'banUser', userId: 'spam.account.42' }]);
 * ```
 *
 * For tests only: it reads `fixtures/samples/` from disk and is never bundled into a function.
 * A catalog event with no sample there (`sampleEvent('v3.post.didApprove')`) gets a generated one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PayloadFor } from '../../core/catalog/payload-for.js';
import { findSampleName, generateSample } from '../../core/catalog/sample.js';
import type { HandlerContext, SocialPlusApi, SocialPlusCallResult, WebhookHandler } from '../../core/define-handler.js';
import { parsePayload } from '../../core/envelope.js';
import { eventIdOf } from '../../core/event-id.js';
import { matchesPattern } from '../../core/routing.js';
import type { HandlerMetrics, LogFields, Logger } from '../../core/telemetry.js';
import { requestsFor, SocialPlusCallMapper, type SocialPlusCall } from './social-plus-client.js';

/** Folder of the sample payloads (`fixtures/samples/*.json`). */
export const SAMPLES_DIR = fileURLToPath(new URL('../../../fixtures/samples/', import.meta.url));

/** The sample names: file names without `.json` (`message.didFlag`, `v3.post.didCreate`, …). */
export function sampleNames(): string[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The payload type of a sample: by its name with any `v<digits>.` prefix removed (`v5.message.didCreate` → `message.didCreate`). */
export type SamplePayload<N extends string> = N extends `v${number}.${infer Rest}` ? PayloadFor<Rest> : PayloadFor<N>;

/**
 * A fresh copy of a sample payload, typed by its name, optionally changed by `edit` (which may
 * mutate it): the file of that name in `fixtures/samples/`, else, for any other event name of the
 * catalog (`v3.post.didApprove`, `follow.didAcceptRequest`), the sample generated for it (the one
 * `socialplus-webhooks send` posts with the default seed). Throws listing the samples when the name
 * is neither.
 */
export function sampleEvent<const N extends string>(name: N, edit?: (event: SamplePayload<N>) => void): SamplePayload<N> {
  const names = sampleNames();
  let event: SamplePayload<N>;
  if (names.includes(name)) {
    event = JSON.parse(readFileSync(`${SAMPLES_DIR}${name}.json`, 'utf8')) as SamplePayload<N>;
  } else if (findSampleName(name) !== undefined) {
    event = generateSample(name) as SamplePayload<N>;
  } else {
    throw new Error(`no sample '${name}' in ${SAMPLES_DIR}; samples: ${names.join(', ')}; or any event name of the catalog (generated)`);
  }
  edit?.(event);
  return event;
}

/**
 * The Social Plus API port that records every call and answers success (or what `respond` says),
 * checking arguments as the HTTP client does.
 */
export class RecordingSocialPlusApi extends SocialPlusCallMapper {
  readonly calls: SocialPlusCall[] = [];

  constructor(private readonly respond: (call: SocialPlusCall) => SocialPlusCallResult | Error | undefined = () => undefined) {
    super();
  }

  protected async execute(call: SocialPlusCall): Promise<SocialPlusCallResult> {
    requestsFor(call);
    this.calls.push(call);
    const answer = this.respond(call);
    if (answer instanceof Error) throw answer;
    return answer ?? { status: 200, dryRun: false };
  }
}

/** One line a handler logged. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields?: LogFields;
}

/** A logger that keeps its lines. */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  debug(message: string, fields?: LogFields) {
    this.entries.push({ level: 'debug', message, ...(fields ? { fields } : {}) });
  }
  info(message: string, fields?: LogFields) {
    this.entries.push({ level: 'info', message, ...(fields ? { fields } : {}) });
  }
  warn(message: string, fields?: LogFields) {
    this.entries.push({ level: 'warn', message, ...(fields ? { fields } : {}) });
  }
  error(message: string, fields?: LogFields) {
    this.entries.push({ level: 'error', message, ...(fields ? { fields } : {}) });
  }
}

/** Metrics that keep every count: what a handler gives `ctx.metrics` (any name it chooses). */
export class RecordingMetrics implements HandlerMetrics {
  readonly counts: Array<{ name: string; value: number; dimensions?: Record<string, string> }> = [];
  count(name: string, value = 1, dimensions?: Record<string, string>) {
    this.counts.push({ name, value, ...(dimensions ? { dimensions } : {}) });
  }
}

/** What the fan-out would know about the event besides its payload; all optional. */
export interface RunOptions {
  /** @default the hash of the payload's JSON, as the receiver computes it from the body */
  readonly eventId?: string;
  /** @default now */
  readonly receivedAt?: string;
  /** @default 'default' */
  readonly source?: string;
  /** @default a new {@link RecordingSocialPlusApi} */
  readonly socialPlus?: SocialPlusApi;
  readonly logger?: Logger;
  readonly metrics?: HandlerMetrics;
}

/** The outcome of {@link runHandler}. */
export interface HandlerRun {
  /** Calls made through `ctx.socialPlus` when it is the default recording fake; empty otherwise. */
  readonly calls: readonly SocialPlusCall[];
  /** What the handler logged (when no `logger` was given). */
  readonly logs: readonly LogEntry[];
  readonly ctx: HandlerContext;
}

/**
 * Runs `handler` on `event` as the fan-out would: routing name and event id from the payload, the
 * payload read through the catalog, `ctx.socialPlus` a recording fake unless given. Throws when the
 * handler does not subscribe to the event (so a test cannot pass by never matching), and rethrows
 * what the handler throws.
 */
export async function runHandler(handler: WebhookHandler<never>, event: unknown, opts: RunOptions = {}): Promise<HandlerRun> {
  // A copy per run: a test may change and reuse its event object, and payloads are read once per object.
  const payload = structuredClone(event);
  const parsed = parsePayload(payload);
  const routable = { eventType: parsed.eventType, eventName: parsed.eventName, deprecated: parsed.deprecated };
  if (!handler.events.some((p) => matchesPattern(p, routable))) {
    throw new Error(
      `handler '${handler.name}' does not subscribe to '${parsed.eventType}' (raw name ${JSON.stringify(parsed.eventName)}); its events: ${handler.events.join(', ')}`,
    );
  }
  const recorder = opts.socialPlus ? undefined : new RecordingSocialPlusApi();
  const logger = opts.logger ?? new RecordingLogger();
  const ctx: HandlerContext = {
    eventId: opts.eventId ?? eventIdOf(JSON.stringify(event)),
    eventType: parsed.eventType,
    eventName: parsed.eventName,
    receivedAt: opts.receivedAt ?? new Date().toISOString(),
    source: opts.source ?? 'default',
    deprecated: parsed.deprecated,
    logger,
    metrics: opts.metrics ?? new RecordingMetrics(),
    socialPlus: opts.socialPlus ?? (recorder as SocialPlusApi),
  };
  await (handler as WebhookHandler<unknown>).handle(payload, ctx);
  return {
    calls: recorder?.calls ?? [],
    logs: logger instanceof RecordingLogger ? logger.entries : [],
    ctx,
  };
}
