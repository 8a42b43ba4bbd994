/**
 * The payloads `send` posts: a sample for every event name of the catalog (the file shipped in
 * `fixtures/samples/`, found next to the CLI's own source, never outside the package; else one
 * generated from the catalog, `lambda/core/catalog/sample.ts`), or a JSON file of the user's own.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { catalogSampleNames, DEFAULT_SAMPLE_SEED, findSampleName, generateSample, type SampleName } from '../lambda/core/catalog/sample.js';
import { normaliseEventType, parseEvent, parsePayload } from '../lambda/core/envelope.js';
import { nearestMatch } from '../lambda/core/near-miss.js';
import { CliError } from './errors.js';
import { applyEdits, hasEdits, type SampleEdits } from './sample-edit.js';
import { errorMessage } from '../lambda/core/errors.js';

/** Folder of the bundled sample payloads. */
export const SAMPLES_DIR = fileURLToPath(new URL('../fixtures/samples/', import.meta.url));

/** Where a body comes from: a file in `fixtures/samples/`, the generator, or the user's file. */
export type PayloadOrigin = 'shipped' | 'generated' | 'file';

/** A body ready to sign: the exact bytes of the sample or file. */
export interface ResolvedPayload {
  /** The sample name (the shipped file's, or the catalog name of a generated one), or the file path as given. */
  readonly label: string;
  readonly body: Buffer;
  readonly origin: PayloadOrigin;
  /** The seed of a generated sample. */
  readonly seed?: number;
  /** Problems worth a warning that do not stop the send (e.g. a user file with no event name). */
  readonly warnings: readonly string[];
}

/** How {@link resolvePayload} reads its argument. */
export interface ResolveOptions {
  /** Folder of the shipped samples. @default SAMPLES_DIR */
  readonly dir?: string;
  /** Generate the sample from this seed even when one is shipped. */
  readonly seed?: number;
  /** Send a file of the user's own even when it is not JSON. */
  readonly raw?: boolean;
}

/** One catalog name as `send --list` shows it. */
export interface SendableName extends SampleName {
  /** The shipped sample file (without `.json`) sent for it; undefined when it is generated. */
  readonly shipped?: string;
}

/** Sample names (file names without `.json`), sorted. */
export function listSamples(dir: string = SAMPLES_DIR): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (err) {
    throw new CliError(`cannot read the sample folder ${dir}: ${errorMessage(err)}`);
  }
  return files
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/**
 * The shipped sample of each name it carries: the raw name in its body (`v3.post.didCreate`), or
 * the routing name of a push notification. A file named after its event wins over other files
 * carrying the same name (`message.didCreate` over `v5.message.didCreate`), else the first by name.
 */
function shippedByName(dir: string): Map<string, string> {
  const byName = new Map<string, string>();
  for (const sample of listSamples(dir)) {
    const parsed = parseEvent(readFileSync(join(dir, `${sample}.json`), 'utf8'));
    const key = parsed.envelope === 'push-notification' ? parsed.eventType : parsed.eventName;
    if (key === null || parsed.flags.includes('unknown-event-type')) continue;
    if (!byName.has(key) || sample === key) byName.set(key, sample);
  }
  return byName;
}

/** Every name `send` knows, in the catalog's order, each with the shipped sample it sends if any. */
export function sendableNames(dir: string = SAMPLES_DIR): SendableName[] {
  const shipped = shippedByName(dir);
  return catalogSampleNames().map((n) => {
    const file = shipped.get(n.name);
    return file === undefined ? n : { ...n, shipped: file };
  });
}

function looksLikePath(arg: string): boolean {
  return /\.json$/i.test(arg) || arg.includes('/') || arg.includes('\\');
}

/**
 * The shipped sample for a name: the file of that name, else the file sent for the catalog name it
 * stands for (`post.didCreate` → `v3.post.didCreate`, `user.didBan` → `user.didBan.inferred`).
 * Undefined when none is shipped (the sample is then generated, see {@link resolvePayload}).
 */
export function findSample(name: string, dir: string = SAMPLES_DIR): string | undefined {
  if (listSamples(dir).includes(name)) return name;
  const entry = findSampleName(name);
  return entry === undefined ? undefined : shippedByName(dir).get(entry.name);
}

/**
 * Reads what `send` is asked to post: a shipped sample by its file name, any catalog event name
 * (its shipped sample, else a generated one; always generated with `seed`), or a path to a JSON
 * file. An unknown name fails with the nearest names.
 */
export function resolvePayload(arg: string, opts: ResolveOptions = {}): ResolvedPayload {
  const dir = opts.dir ?? SAMPLES_DIR;
  if (arg.trim() === '')
    throw new CliError('the event name is empty: give an event name (e.g. message.didCreate; send --list shows them all) or a path to a JSON file');
  if (!looksLikePath(arg)) {
    const entry = findSampleName(arg);
    if (opts.seed === undefined) {
      const sample = findSample(arg, dir);
      if (sample !== undefined) return { label: sample, body: readFileSync(join(dir, `${sample}.json`)), origin: 'shipped', warnings: [] };
    }
    if (entry !== undefined) {
      const seed = opts.seed ?? DEFAULT_SAMPLE_SEED;
      return { label: entry.name, body: serialise(generateSample(entry.name, seed)), origin: 'generated', seed, warnings: [] };
    }
    if (!isFile(arg)) {
      if (opts.seed !== undefined && listSamples(dir).includes(arg)) {
        throw new CliError(`--seed generates a sample for a catalog event name; '${arg}' is a shipped sample only: send it without --seed`);
      }
      throw new CliError(unknownNameMessage(arg, dir));
    }
  }
  return readUserFile(arg, opts.raw === true);
}

/** "unknown event name", with the names it most likely meant and where to find the rest. */
function unknownNameMessage(arg: string, dir: string): string {
  const all = sendableNames(dir);
  const candidates = [...new Set([...all.flatMap((n) => [n.name, n.eventType]), ...listSamples(dir)])];
  const near = nearestMatch(arg, candidates);
  // A bare action (`didRoleChange`) names every family's event of that action.
  const action = arg.includes('.') ? [] : all.filter((n) => n.name.split('.').at(-1)?.toLowerCase() === arg.toLowerCase()).map((n) => n.name);
  const suggestions = [...new Set([...(near === undefined ? [] : [near]), ...action])];
  const family = normaliseEventType(arg).split('.')[0];
  const sameFamily = all.filter((n) => n.family === family && !n.deprecated).map((n) => n.name);
  const hint =
    suggestions.length > 0
      ? `: did you mean ${suggestions.join(' or ')}?`
      : sameFamily.length > 0
        ? `; the ${family} events are ${sameFamily.join(', ')}`
        : '';
  return `unknown event name '${arg}'${hint} (send --list shows the ${all.length} names it knows; or give a path to a JSON file)`;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

function readUserFile(path: string, raw: boolean): ResolvedPayload {
  if (!existsSync(path)) throw new CliError(`file not found: ${path}`);
  if (!statSync(path).isFile()) throw new CliError(`not a file: ${path}`);
  const body = readFileSync(path);
  if (body.length === 0) throw new CliError(`file is empty: ${path} (the receiver answers 400 to an empty body)`);
  if (raw) return { label: path, body, origin: 'file', warnings: [] };
  try {
    JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new CliError(
      `${path} is not JSON (${errorMessage(err)}): not sent; to test how the receiver stores such a body (flagged invalid-json), send it with --raw`,
    );
  }
  const warnings: string[] = [];
  if (parseEvent(body.toString('utf8')).flags.includes('unknown-envelope')) {
    warnings.push(`${path} has no "event" name; sending it anyway (the receiver archives it flagged unknown-envelope)`);
  }
  return { label: path, body, origin: 'file', warnings };
}

/** A generated or edited payload as `send` posts it: pretty-printed like the shipped samples. */
export function serialise(payload: unknown, like?: string): Buffer {
  // Keep the look of the original (pretty-printed samples stay pretty) so bodies are easy to read.
  const indent = like === undefined ? '  ' : /^\{\r?\n([ \t]+)"/.exec(like)?.[1];
  const trailing = like === undefined ? '\n' : (/\r?\n$/.exec(like)?.[0] ?? '');
  return Buffer.from(`${JSON.stringify(payload, null, indent)}${trailing}`, 'utf8');
}

/**
 * The payload with `--user`, `--channel` and `--set` applied (see `./sample-edit.ts`), re-serialised
 * in the layout of the original. The result is read through the catalog's schema: a value of the
 * wrong type (which the fan-out leaves out before handlers see it) and an event name outside the
 * catalog come back as warnings. Unchanged when there is nothing to edit.
 */
export async function editPayload(payload: ResolvedPayload, edits: SampleEdits): Promise<ResolvedPayload> {
  if (!hasEdits(edits)) return payload;
  const text = payload.body.toString('utf8');
  const edited = applyEdits(JSON.parse(text) as unknown, edits, payload.label);
  const parsed = parsePayload(edited);
  const warnings = [...payload.warnings];
  if (parsed.flags.includes('unknown-envelope'))
    warnings.push('after the edits the payload has no "event" name: the receiver archives it flagged unknown-envelope');
  if (parsed.flags.includes('unknown-event-type'))
    warnings.push(
      `after the edits the event name '${parsed.eventName ?? ''}' is not in the catalog: the receiver stores it flagged unknown-event-type`,
    );
  // The schemas load zod: only when there is an edited payload to check.
  const { readTypedPayload } = await import('../lambda/core/catalog/parse.js');
  for (const issue of readTypedPayload(parsed.eventType, parsed.payload).issues) {
    warnings.push(
      `after the edits ${issue.path || 'the payload'} is not what the catalog types (${issue.code}${issue.expected ? `, expected ${issue.expected}` : ''}): the fan-out leaves that value out before handlers see it`,
    );
  }
  return { ...payload, body: serialise(edited, text), warnings };
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field added to a copy's envelope when it has no timestamp to bump. */
export const COPY_FIELD = 'sendCopy';

/**
 * The body of copy `copy` (1-based) of `body` for `send --count`. Copy 1 is the body byte for byte;
 * every later copy differs, so it gets its own event id (docs/architecture.md §2: the id is a hash of the body):
 * the primary entity's timestamp, the one the archive reports as `occurred_at` (`sentTime` of a
 * push notification, else `updatedAt`/`createdAt` of the first entity under `data`), is moved
 * `copy - 1` ms later. A JSON object with no such timestamp gets a top-level `"sendCopy": <copy>`;
 * a body that is not a JSON object gets `copy - 1` trailing spaces (invalid JSON stays invalid).
 */
export function varyBody(body: Buffer, copy: number): Buffer {
  if (!Number.isInteger(copy) || copy < 1) throw new RangeError(`copy must be an integer >= 1, got ${copy}`);
  if (copy === 1) return body;
  const text = body.toString('utf8');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    payload = undefined;
  }
  if (!isObj(payload)) return Buffer.concat([body, Buffer.from(' '.repeat(copy - 1))]);

  const target = timestampToBump(payload, parseEvent(text).entities.occurredAt);
  if (target) {
    const [holder, key, millis] = target;
    holder[key] = new Date(millis + copy - 1).toISOString();
  } else {
    payload[COPY_FIELD] = copy;
  }
  return serialise(payload, text);
}

function timestampToBump(envelope: Obj, occurredAt: string | undefined): [Obj, string, number] | undefined {
  const candidates: Array<[Obj, string]> = [[envelope, 'sentTime']];
  const data = isObj(envelope.data) ? envelope.data : undefined;
  if (data) {
    for (const value of Object.values(data)) {
      const entity = Array.isArray(value) ? value[0] : value;
      if (isObj(entity)) candidates.push([entity, 'updatedAt'], [entity, 'createdAt']);
    }
    candidates.push([data, 'updatedAt'], [data, 'createdAt']);
  }
  const usable = candidates.flatMap(([holder, key]): Array<[Obj, string, number]> => {
    const value = holder[key];
    if (typeof value !== 'string') return [];
    const millis = Date.parse(value);
    return Number.isFinite(millis) ? [[holder, key, millis]] : [];
  });
  // Prefer the timestamp the core reads as occurred_at, so each copy also has its own time.
  return usable.find(([holder, key]) => holder[key] === occurredAt) ?? usable[0];
}
