/**
 * The edits `send` makes to a payload before signing it: `--user` and `--channel` put other ids in
 * every place the payload names the event's user or channel, `--set path=value` sets one field.
 * Pure: a parsed payload in, an edited copy out; the input is never changed.
 */
import { parsePayload } from '../lambda/core/envelope.js';
import { nearestMatch } from '../lambda/core/near-miss.js';
import { CliError } from './errors.js';

/** One step of a `--set` path: an object key or a list index. */
export type PathSegment = string | number;

/** A parsed `--set path=value`. */
export interface Assignment {
  readonly path: readonly PathSegment[];
  readonly value: unknown;
  /** The option as given, for messages. */
  readonly text: string;
}

/** What to change, in the order applied: ids first, then each `--set` in turn (so `--set` wins). */
export interface SampleEdits {
  readonly user?: string;
  readonly channel?: string;
  readonly set?: readonly Assignment[];
}

/** Whether `edits` changes anything. */
export function hasEdits(edits: SampleEdits): boolean {
  return edits.user !== undefined || edits.channel !== undefined || (edits.set?.length ?? 0) > 0;
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a `--set` path: keys joined by `.`, list indexes in brackets, and keys that hold `.`,
 * `[` or `]` as quoted strings in brackets: `data.messages[0].data.text`, `data.metadata["a.b"]`.
 */
export function parsePath(text: string): PathSegment[] {
  if (text === '') throw new CliError('--set: the path is empty (expected e.g. data.messages[0].data.text=hello)');
  const out: PathSegment[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new CliError(`--set: bad path '${text}': ${why} (expected keys joined by '.', list indexes as [0], e.g. data.messages[0].data.text)`);
  };
  // A '.' must be followed by a key.
  const afterDot = (dot: number): number => {
    if (dot + 1 === text.length) fail("it ends with '.'");
    if (text[dot + 1] === '[' || text[dot + 1] === '.') fail(`'.' at ${dot + 1} is not followed by a key`);
    return dot + 1;
  };
  while (i < text.length) {
    const ch = text[i];
    if (ch === '[') {
      const close = closingBracket(text, i);
      if (close < 0) fail(`'[' at ${i + 1} is never closed`);
      const inner = text.slice(i + 1, close);
      if (/^\d+$/.test(inner)) {
        out.push(Number(inner));
      } else if (/^"(?:[^"\\]|\\.)*"$/.test(inner)) {
        out.push(JSON.parse(inner) as string);
      } else {
        fail(`[${inner}] is neither a list index nor a quoted key`);
      }
      i = close + 1;
      if (i < text.length && text[i] !== '.' && text[i] !== '[') fail(`'${text[i]}' after ']' at ${i + 1}`);
      if (text[i] === '.') i = afterDot(i);
      continue;
    }
    let end = i;
    while (end < text.length && text[end] !== '.' && text[end] !== '[') end++;
    const key = text.slice(i, end);
    if (key === '') fail(`empty key at ${i + 1}`);
    if (key.includes(']')) fail(`']' without '[' in '${key}'`);
    out.push(key);
    i = end;
    if (text[i] === '.') i = afterDot(i);
  }
  return out;
}

/** The index of the `]` closing the `[` at `open` (a quoted key may hold `]`), or -1. */
function closingBracket(text: string, open: number): number {
  let i = open + 1;
  if (text[i] === '"') {
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    i++;
  }
  return text.indexOf(']', i);
}

/** A path as `--set` writes it: `data.messages[0].text`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[^.[\]"]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * Parses `--set path=value` (split at the first `=`). The value is JSON when it parses as JSON
 * (`9`, `true`, `null`, `{"a":1}`, `"9"` for the string 9), else the text as a string.
 */
export function parseAssignment(text: string): Assignment {
  const eq = text.indexOf('=');
  if (eq < 0) throw new CliError(`--set takes path=value, got '${text}' (e.g. --set data.messages[0].flagCount=9)`);
  const path = parsePath(text.slice(0, eq));
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Not JSON: the text itself.
  }
  return { path, value, text };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Sets the value at `a.path` in `root` (mutated). Every step but the last must exist; the last may be a new key or the next list item. */
function assign(root: unknown, a: Assignment): void {
  let at: unknown = root;
  for (let i = 0; i < a.path.length; i++) {
    const seg = a.path[i] as PathSegment;
    const here = formatPath(a.path.slice(0, i)) || 'the payload';
    const there = formatPath(a.path.slice(0, i + 1));
    const last = i === a.path.length - 1;
    if (Array.isArray(at)) {
      if (typeof seg !== 'number') throw new CliError(`--set ${a.text}: ${here} is a list: index it, e.g. ${here}[0]`);
      if (last ? seg > at.length : seg >= at.length) {
        throw new CliError(
          `--set ${a.text}: ${there} does not exist: ${here} has ${at.length} item${at.length === 1 ? '' : 's'}${last ? ` (index ${at.length} adds one)` : ''}`,
        );
      }
      if (last) at[seg] = a.value;
      else at = at[seg];
    } else if (isObj(at)) {
      if (typeof seg === 'number')
        throw new CliError(`--set ${a.text}: ${here} is an object, not a list: use a key, e.g. ${formatPath([...a.path.slice(0, i), 'key'])}`);
      if (last) {
        at[seg] = a.value;
      } else {
        if (!Object.hasOwn(at, seg)) {
          const keys = Object.keys(at);
          const near = nearestMatch(seg, keys);
          throw new CliError(
            `--set ${a.text}: ${there} does not exist${near === undefined ? '' : ` (did you mean ${formatPath([...a.path.slice(0, i), near])}?)`}; ${here} has ${keys.length > 0 ? keys.join(', ') : 'no keys'}`,
          );
        }
        at = at[seg];
      }
    } else {
      throw new CliError(`--set ${a.text}: ${here} is ${describe(at)}, so it has no ${typeof seg === 'number' ? `item [${seg}]` : `key '${seg}'`}`);
    }
  }
}

/**
 * Replaces `from` with `to` in every string of the payload equal to it and in every `/`-separated
 * segment of a string equal to it (the `path` fields: `<network>/chat/<channelId>/<messageId>`).
 * Returns how many strings changed. Keys are left alone.
 */
function replaceId(node: unknown, from: string, to: string): number {
  let changed = 0;
  const swap = (value: string): string => {
    if (value === from) return to;
    if (!value.includes('/')) return value;
    const parts = value.split('/');
    return parts.some((p) => p === from) ? parts.map((p) => (p === from ? to : p)).join('/') : value;
  };
  const visit = (holder: Obj | unknown[], key: string | number): void => {
    const value = (holder as Record<string | number, unknown>)[key];
    if (typeof value === 'string') {
      const next = swap(value);
      if (next !== value) {
        (holder as Record<string | number, unknown>)[key] = next;
        changed++;
      }
    } else if (Array.isArray(value)) {
      value.forEach((_, i) => visit(value, i));
    } else if (isObj(value)) {
      for (const k of Object.keys(value)) visit(value, k);
    }
  };
  if (Array.isArray(node)) node.forEach((_, i) => visit(node, i));
  else if (isObj(node)) for (const k of Object.keys(node)) visit(node, k);
  return changed;
}

function firstOf(value: unknown): Obj | undefined {
  const item = Array.isArray(value) ? value[0] : value;
  return isObj(item) ? item : undefined;
}

function idIn(o: Obj | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The event's user: its actor as the fan-out reads it (sender, author, reactor, follower, banner,
 * the user of a `user.*` event: the id `events --user` finds it by), else the first of `users[]`.
 */
export function primaryUserId(payload: unknown): string | undefined {
  const parsed = parsePayload(payload);
  if (parsed.entities.actorId !== undefined) return parsed.entities.actorId;
  const data = isObj(payload) ? payload.data : undefined;
  return idIn(firstOf(isObj(data) ? data.users : undefined), 'userId');
}

/**
 * The event's chat channel: the channel of a `channel.*` or `moderation.*` event, the channel of
 * the message of a `message.*` event, or the channel or message of a push notification.
 * Undefined for events about no chat channel (posts, communities, users, …).
 */
export function primaryChannelId(payload: unknown): string | undefined {
  const parsed = parsePayload(payload);
  const data = isObj(payload) && isObj(payload.data) ? payload.data : {};
  const family = parsed.eventType.startsWith('push-notification.') ? 'push-notification' : parsed.eventType.split('.')[0];
  switch (family) {
    case 'channel':
    case 'moderation':
      return idIn(firstOf(data.channel) ?? firstOf(data.channels), 'channelId');
    case 'message':
      return idIn(firstOf(data.messages), 'channelId');
    case 'push-notification':
      return idIn(firstOf(data.channels), 'channelId') ?? idIn(firstOf(data.messages), 'channelId');
    default:
      return undefined;
  }
}

/**
 * A copy of `payload` with the edits applied. `label` names the payload in messages. Throws a
 * {@link CliError} when an edit does not apply (no user or channel to replace, a bad `--set` path).
 */
export function applyEdits(payload: unknown, edits: SampleEdits, label: string): unknown {
  const copy: unknown = structuredClone(payload);
  if (!isObj(copy)) throw new CliError(`${label} is not a JSON object: --set, --user and --channel edit objects only`);
  if (edits.user !== undefined) {
    if (edits.user.trim() === '') throw new CliError('--user is empty');
    const from = primaryUserId(copy);
    if (from === undefined)
      throw new CliError(`--user: ${label} names no user to replace (tag and file events have none); set a field with --set instead`);
    if (from !== edits.user) replaceId(copy, from, edits.user);
  }
  if (edits.channel !== undefined) {
    if (edits.channel.trim() === '') throw new CliError('--channel is empty');
    const from = primaryChannelId(copy);
    if (from === undefined) {
      throw new CliError(
        `--channel: ${label} is about no chat channel (--channel applies to channel.*, message.*, moderation.* and push notifications of channels and messages); set a field with --set instead`,
      );
    }
    if (from !== edits.channel) replaceId(copy, from, edits.channel);
  }
  for (const a of edits.set ?? []) assign(copy, a);
  return copy;
}
