/**
 * The sample payloads `send` posts: the files in `fixtures/samples/`, found next to the CLI's own
 * source (never from outside the package), or a JSON file of the user's own.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { normaliseEventType, parseEvent } from '../lambda/core/envelope.js';
import { CliError } from './errors.js';

/** Folder of the bundled sample payloads. */
export const SAMPLES_DIR = fileURLToPath(new URL('../fixtures/samples/', import.meta.url));

/** A body ready to sign: the exact bytes of the sample or file. */
export interface ResolvedPayload {
  /** The sample name, or the file path as given. */
  readonly label: string;
  readonly body: Buffer;
  /** Problems worth a warning that do not stop the send (e.g. a user file that is not JSON). */
  readonly warnings: readonly string[];
}

/** Sample names (file names without `.json`), sorted. */
export function listSamples(dir: string = SAMPLES_DIR): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (err) {
    throw new CliError(`cannot read the sample folder ${dir}: ${(err as Error).message}`);
  }
  return files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
}

function looksLikePath(arg: string): boolean {
  return /\.json$/i.test(arg) || arg.includes('/') || arg.includes('\\');
}

/**
 * Finds a sample by name: the exact file name first, then, when exactly one sample fits, by the
 * normalised name (`post.didCreate` → `v3.post.didCreate`) or by the routing name its body carries
 * (`user.didBan` → `user.didBan.inferred`). Returns undefined when nothing fits.
 */
export function findSample(name: string, dir: string = SAMPLES_DIR): string | undefined {
  const samples = listSamples(dir);
  if (samples.includes(name)) return name;
  const wanted = normaliseEventType(name);
  const candidates = samples.filter((s) => {
    if (normaliseEventType(s) === wanted) return true;
    return parseEvent(readFileSync(join(dir, `${s}.json`), 'utf8')).eventType === wanted;
  });
  if (candidates.length > 1) {
    throw new CliError(`sample name '${name}' is ambiguous: it fits ${candidates.join(', ')}; give the full name`);
  }
  return candidates[0];
}

/** Reads what `send` is asked to post: a sample name or a path to a JSON file. */
export function resolvePayload(arg: string, dir: string = SAMPLES_DIR): ResolvedPayload {
  if (arg.trim() === '') throw new CliError('the event type is empty: give a sample name (e.g. message.didCreate) or a path to a JSON file');
  if (!looksLikePath(arg)) {
    const sample = findSample(arg, dir);
    if (sample !== undefined) return { label: sample, body: readFileSync(join(dir, `${sample}.json`)), warnings: [] };
    if (!isFile(arg)) {
      throw new CliError(`unknown sample '${arg}'; available samples: ${listSamples(dir).join(', ')} (or give a path to a JSON file)`);
    }
  }
  return readUserFile(arg);
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

function readUserFile(path: string): ResolvedPayload {
  if (!existsSync(path)) throw new CliError(`file not found: ${path}`);
  if (!statSync(path).isFile()) throw new CliError(`not a file: ${path}`);
  const body = readFileSync(path);
  if (body.length === 0) throw new CliError(`file is empty: ${path} (the receiver answers 400 to an empty body)`);
  const warnings: string[] = [];
  const parsed = parseEvent(body.toString('utf8'));
  // Still sent: the receiver must store such bodies flagged, and testing that is a fair use.
  if (parsed.flags.includes('invalid-json')) warnings.push(`${path} is not valid JSON; sending it anyway (the receiver archives it flagged invalid-json)`);
  else if (parsed.flags.includes('unknown-envelope')) warnings.push(`${path} has no "event" name; sending it anyway (the receiver archives it flagged unknown-envelope)`);
  return { label: path, body, warnings };
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field added to a copy's envelope when it has no timestamp to bump. */
export const COPY_FIELD = 'sendCopy';

/**
 * The body of copy `copy` (1-based) of `body` for `send --count`. Copy 1 is the body byte for byte;
 * every later copy differs, so it gets its own event id (DESIGN §2: the id is a hash of the body):
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
  // Keep the look of the original (pretty-printed samples stay pretty) so copies are easy to read.
  const indent = /^\{\r?\n([ \t]+)"/.exec(text)?.[1];
  const trailing = /\r?\n$/.exec(text)?.[0] ?? '';
  return Buffer.from(`${JSON.stringify(payload, null, indent)}${trailing}`, 'utf8');
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
