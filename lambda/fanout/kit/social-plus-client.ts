/**
 * The Social Plus REST API client behind `ctx.socialPlus` (docs/social-plus.md §3 hosts, §9 calls and auth):
 * global `fetch`, an admin token from a credentials source (Secrets Manager, cached), a timeout per
 * attempt, retries with backoff on 429, 5xx and network errors (honouring `Retry-After`), one token
 * refresh on 401 (a rotated token), and a dry-run mode that only logs what it would call.
 */
import { errorMessage, hasErrorName, SocialPlusWebhooksError } from '../../core/errors.js';
import type { MessageApiVersion, SocialPlusApi, SocialPlusCallResult } from '../../core/define-handler.js';
import type { Logger } from '../../core/telemetry.js';

/** Social Plus regions and their REST API hosts (docs/social-plus.md §3). */
export const SOCIALPLUS_API_HOSTS = {
  us: 'https://apix.us.amity.co',
  eu: 'https://apix.eu.amity.co',
  sg: 'https://apix.sg.amity.co',
} as const;

export type SocialPlusRegion = keyof typeof SOCIALPLUS_API_HOSTS;

/** What the API is called with: the admin API token, and the network's API key where the spec asks for it. */
export interface SocialPlusCredentials {
  /** Admin API access token (Console: Settings → Admin Users → Admin Token), sent as `Authorization: Bearer`. */
  readonly adminToken: string;
  /** The network's API key, sent as `X-API-Key` (the spec's scheme for the global ban), when given. */
  readonly apiKey?: string;
}

/** Where the credentials come from; `forceRefresh` bypasses a cache (after a 401). */
export interface SocialPlusCredentialsSource {
  get(opts?: { readonly forceRefresh?: boolean }): Promise<SocialPlusCredentials>;
}

/** One call, as data: what the HTTP client sends and what the recording fake records. */
export type SocialPlusCall =
  | { readonly action: 'banUser'; readonly userId: string }
  | { readonly action: 'unbanUser'; readonly userId: string }
  | { readonly action: 'banFromChannel'; readonly channelId: string; readonly userIds: readonly string[] }
  | { readonly action: 'unbanFromChannel'; readonly channelId: string; readonly userIds: readonly string[] }
  | { readonly action: 'banFromCommunity'; readonly communityId: string; readonly userIds: readonly string[] }
  | { readonly action: 'unbanFromCommunity'; readonly communityId: string; readonly userIds: readonly string[] }
  | { readonly action: 'deleteMessage'; readonly messageId: string; readonly version: MessageApiVersion; readonly permanent: boolean }
  | { readonly action: 'clearMessageFlags'; readonly messageId: string; readonly version: MessageApiVersion }
  | { readonly action: 'deletePost'; readonly postId: string; readonly permanent: boolean }
  | { readonly action: 'deleteComment'; readonly commentId: string; readonly permanent: boolean }
  | { readonly action: 'clearUserFlags'; readonly userId: string };

/** An HTTP request of the API. */
export interface SocialPlusRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query, e.g. `/api/v5/messages/abc?permanent=false`. */
  readonly path: string;
  readonly body?: Record<string, unknown>;
}

/** Most user ids the channel and community ban endpoints take at once (docs/social-plus.md §9). */
export const MAX_USER_IDS_PER_CALL = 100;

/** The API answered with an error that a retry will not fix (a 4xx other than 401 after a refresh, 404 on a delete, 408, 429). */
export class SocialPlusApiError extends SocialPlusWebhooksError {
  constructor(
    readonly status: number,
    readonly request: SocialPlusRequest,
    detail: string,
  ) {
    super(`Social Plus API ${request.method} ${request.path} answered ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'SocialPlusApiError';
  }
}

/** Every attempt failed with a retryable answer (429, 5xx) or no answer (timeout, network). */
export class SocialPlusUnavailableError extends SocialPlusWebhooksError {
  constructor(
    readonly request: SocialPlusRequest,
    readonly attempts: number,
    readonly lastProblem: string,
  ) {
    super(`Social Plus API ${request.method} ${request.path} failed after ${attempts} attempt(s): ${lastProblem}`);
    this.name = 'SocialPlusUnavailableError';
  }
}

/** Invalid arguments to a call, named. */
export class SocialPlusArgumentError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'SocialPlusArgumentError';
  }
}

function id(name: string, value: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new SocialPlusArgumentError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  // encodeURIComponent leaves '.' alone, and a URL resolves '.' and '..' segments: banFromChannel('..')
  // would become PUT /api/v3/users/ban. No Social Plus id is a dot segment.
  if (value === '.' || value === '..')
    throw new SocialPlusArgumentError(`${name} must be an id, got ${JSON.stringify(value)} (a path segment that would change the request's path)`);
  return encodeURIComponent(value);
}

function ids(name: string, values: readonly string[]): string[] {
  if (!Array.isArray(values) || values.length === 0)
    throw new SocialPlusArgumentError(`${name} must be a non-empty list of user ids, got ${JSON.stringify(values)}`);
  for (const v of values) id(`each of ${name}`, v);
  return [...new Set(values)];
}

/** The request(s) of a call: bans of more than 100 users are split into groups of 100. */
export function requestsFor(call: SocialPlusCall): SocialPlusRequest[] {
  const perm = (permanent: boolean) => `?permanent=${permanent ? 'true' : 'false'}`;
  switch (call.action) {
    case 'banUser':
    case 'unbanUser':
      id('userId', call.userId);
      return [{ method: 'POST', path: `/api/v2/users/${call.action === 'banUser' ? 'ban' : 'unban'}`, body: { userId: call.userId } }];
    case 'banFromChannel':
    case 'unbanFromChannel':
      return scopedBans('channels', call.channelId, call.userIds, call.action === 'banFromChannel');
    case 'banFromCommunity':
    case 'unbanFromCommunity':
      return scopedBans('communities', call.communityId, call.userIds, call.action === 'banFromCommunity');
    case 'deleteMessage':
      return [
        call.version === 'v3'
          ? { method: 'DELETE', path: `/api/v3/messages/${id('messageId', call.messageId)}` }
          : { method: 'DELETE', path: `/api/v5/messages/${id('messageId', call.messageId)}${perm(call.permanent)}` },
      ];
    case 'clearMessageFlags':
      return [
        call.version === 'v3'
          ? { method: 'DELETE', path: `/api/v3/messages/${id('messageId', call.messageId)}/clearFlags` }
          : { method: 'DELETE', path: `/api/v5/messages/${id('messageId', call.messageId)}/flags/all` },
      ];
    case 'deletePost':
      return [{ method: 'DELETE', path: `/api/v4/posts/${id('postId', call.postId)}${perm(call.permanent)}` }];
    case 'deleteComment':
      return [{ method: 'DELETE', path: `/api/v4/comments/${id('commentId', call.commentId)}${perm(call.permanent)}` }];
    case 'clearUserFlags':
      return [{ method: 'DELETE', path: `/api/v2/users/${id('userId', call.userId)}/flags` }];
  }
}

/**
 * The requests of a channel or community (un)ban: one `PUT /api/v3/<scope>/<id>/users/ban|unban`
 * per group of 100 users. The user ids are checked before the scope's id.
 */
function scopedBans(scope: 'channels' | 'communities', scopeId: string, userIds: readonly string[], ban: boolean): SocialPlusRequest[] {
  const groups = chunks(ids('userIds', userIds));
  const path = `/api/v3/${scope}/${id(scope === 'channels' ? 'channelId' : 'communityId', scopeId)}/users/${ban ? 'ban' : 'unban'}`;
  return groups.map((group) => ({ method: 'PUT', path, body: { userIds: group } }));
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_USER_IDS_PER_CALL) out.push(items.slice(i, i + MAX_USER_IDS_PER_CALL));
  return out;
}

/**
 * Implements every method of the {@link SocialPlusApi} port by turning it into a {@link SocialPlusCall}
 * and handing it to `execute`: the HTTP client and the recording fake share this mapping.
 */
export abstract class SocialPlusCallMapper implements SocialPlusApi {
  protected abstract execute(call: SocialPlusCall): Promise<SocialPlusCallResult>;

  banUser(userId: string) {
    return this.execute({ action: 'banUser', userId });
  }

  unbanUser(userId: string) {
    return this.execute({ action: 'unbanUser', userId });
  }

  banFromChannel(channelId: string, userIds: readonly string[]) {
    return this.execute({ action: 'banFromChannel', channelId, userIds: [...userIds] });
  }

  unbanFromChannel(channelId: string, userIds: readonly string[]) {
    return this.execute({ action: 'unbanFromChannel', channelId, userIds: [...userIds] });
  }

  banFromCommunity(communityId: string, userIds: readonly string[]) {
    return this.execute({ action: 'banFromCommunity', communityId, userIds: [...userIds] });
  }

  unbanFromCommunity(communityId: string, userIds: readonly string[]) {
    return this.execute({ action: 'unbanFromCommunity', communityId, userIds: [...userIds] });
  }

  deleteMessage(messageId: string, opts: { readonly version?: MessageApiVersion; readonly permanent?: boolean } = {}) {
    return this.execute({ action: 'deleteMessage', messageId, version: opts.version ?? 'v5', permanent: opts.permanent ?? false });
  }

  clearMessageFlags(messageId: string, opts: { readonly version?: MessageApiVersion } = {}) {
    return this.execute({ action: 'clearMessageFlags', messageId, version: opts.version ?? 'v5' });
  }

  deletePost(postId: string, opts: { readonly permanent?: boolean } = {}) {
    return this.execute({ action: 'deletePost', postId, permanent: opts.permanent ?? false });
  }

  deleteComment(commentId: string, opts: { readonly permanent?: boolean } = {}) {
    return this.execute({ action: 'deleteComment', commentId, permanent: opts.permanent ?? false });
  }

  clearUserFlags(userId: string) {
    return this.execute({ action: 'clearUserFlags', userId });
  }
}

/** Options of {@link SocialPlusHttpClient}. */
export interface SocialPlusHttpClientOptions {
  /** The network's region; picks the `apix` host. Required unless `baseUrl` is given. */
  readonly region?: SocialPlusRegion;
  /** Overrides the host (a proxy, or a fake API in tests), e.g. `http://127.0.0.1:4000`. */
  readonly baseUrl?: string;
  /** Where the admin token comes from. Not read in a dry run. */
  readonly credentials: SocialPlusCredentialsSource;
  readonly logger: Logger;
  /** Only log what would be called; send nothing. @default false */
  readonly dryRun?: boolean;
  /** Time allowed for each attempt. @default 5000 */
  readonly timeoutMs?: number;
  /** Attempts per request, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** First backoff; doubles per attempt, with full jitter. @default 200 */
  readonly backoffBaseMs?: number;
  /** Longest wait between attempts, `Retry-After` included: a longer `Retry-After` ends the retries. @default 10000 */
  readonly maxBackoffMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default Date.now (for `Retry-After` dates) */
  readonly nowMs?: () => number;
}

const RETRYABLE_STATUS = (status: number) => status === 429 || status >= 500;
const DEFAULT_TIMEOUT_MS = 5_000;

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The HTTP implementation of `ctx.socialPlus`. */
export class SocialPlusHttpClient extends SocialPlusCallMapper {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly maxBackoffMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly nowMs: () => number;

  constructor(private readonly opts: SocialPlusHttpClientOptions) {
    super();
    if (opts.region !== undefined && !Object.hasOwn(SOCIALPLUS_API_HOSTS, opts.region)) {
      throw new SocialPlusArgumentError(`unknown Social Plus region '${opts.region}': use one of ${Object.keys(SOCIALPLUS_API_HOSTS).join(', ')}`);
    }
    const base = opts.baseUrl ?? (opts.region ? SOCIALPLUS_API_HOSTS[opts.region] : undefined);
    if (base === undefined) {
      throw new SocialPlusArgumentError(
        `the Social Plus API client needs a region (one of ${Object.keys(SOCIALPLUS_API_HOSTS).join(', ')}) or a baseUrl`,
      );
    }
    if (!/^https?:\/\/[^/]+/.test(base)) throw new SocialPlusArgumentError(`the Social Plus API baseUrl must be an http(s) URL, got '${base}'`);
    this.baseUrl = base.replace(/\/+$/, '');
    this.timeoutMs = positive('timeoutMs', opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.maxAttempts = positive('maxAttempts', opts.maxAttempts ?? 3);
    this.backoffBaseMs = opts.backoffBaseMs ?? 200;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.fetchFn = opts.fetch ?? globalThis.fetch;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = opts.random ?? Math.random;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  protected async execute(call: SocialPlusCall): Promise<SocialPlusCallResult> {
    const requests = requestsFor(call);
    let last: SocialPlusCallResult = { status: 0, dryRun: true };
    for (const request of requests) last = await this.send(call.action, request);
    return last;
  }

  private async send(action: SocialPlusCall['action'], request: SocialPlusRequest): Promise<SocialPlusCallResult> {
    const log = { action, method: request.method, path: request.path };
    if (this.opts.dryRun) {
      this.opts.logger.info('Social Plus API dry run: would call', log);
      return { status: 0, dryRun: true };
    }
    let refreshed = false;
    let problem = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const credentials = await this.opts.credentials.get(refreshed ? { forceRefresh: true } : {});
      let response: Response;
      try {
        response = await this.fetchFn(`${this.baseUrl}${request.path}`, {
          method: request.method,
          headers: headers(credentials, request.body !== undefined),
          ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        problem = hasErrorName(err, 'TimeoutError') ? `no answer within ${this.timeoutMs} ms` : `network error: ${errorMessage(err)}`;
        this.opts.logger.warn('Social Plus API call failed; retrying if attempts remain', { ...log, attempt, problem });
        if (attempt < this.maxAttempts) await this.sleep(this.backoff(attempt));
        continue;
      }
      const status = response.status;
      if (status >= 200 && status < 300) {
        await response.body?.cancel().catch(() => undefined);
        this.opts.logger.info('Social Plus API call done', { ...log, status, attempt });
        return { status, dryRun: false };
      }
      const detail = await errorDetail(response);
      if (status === 404 && request.method === 'DELETE') {
        // Already deleted (or flags already cleared): what a retry of a finished call finds.
        this.opts.logger.info('Social Plus API: nothing to delete (already gone)', { ...log, status });
        return { status, dryRun: false, notFound: true };
      }
      if (status === 401 && !refreshed) {
        // The token may have been rotated since it was cached: read it again once.
        refreshed = true;
        problem = `401${detail ? `: ${detail}` : ''}`;
        this.opts.logger.warn('Social Plus API answered 401; reading the admin token again', { ...log, attempt });
        continue;
      }
      if (!RETRYABLE_STATUS(status)) throw new SocialPlusApiError(status, request, detail);
      problem = `${status}${detail ? `: ${detail}` : ''}`;
      if (attempt >= this.maxAttempts) break;
      const wait = retryAfterMs(response.headers.get('retry-after'), this.nowMs());
      if (wait !== undefined && wait > this.maxBackoffMs) {
        problem += ` (Retry-After ${Math.ceil(wait / 1000)} s is longer than the ${this.maxBackoffMs} ms this client waits)`;
        break;
      }
      this.opts.logger.warn('Social Plus API answered a retryable status; retrying', { ...log, attempt, status, waitMs: wait ?? 'backoff' });
      await this.sleep(wait ?? this.backoff(attempt));
    }
    throw new SocialPlusUnavailableError(request, this.maxAttempts, problem);
  }

  /** Exponential backoff with full jitter, capped. */
  private backoff(attempt: number): number {
    return Math.floor(this.random() * Math.min(this.maxBackoffMs, this.backoffBaseMs * 2 ** (attempt - 1)));
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new SocialPlusArgumentError(`${name} must be a positive number, got ${value}`);
  return value;
}

function headers(c: SocialPlusCredentials, hasBody: boolean): Record<string, string> {
  return {
    accept: 'application/json',
    authorization: `Bearer ${c.adminToken}`,
    ...(c.apiKey ? { 'x-api-key': c.apiKey } : {}),
    ...(hasBody ? { 'content-type': 'application/json' } : {}),
  };
}

/** A short reason from an error answer (`message` of a JSON body, else the start of the text). */
async function errorDetail(response: Response): Promise<string> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return '';
  }
  try {
    const parsed = JSON.parse(text) as { message?: unknown; code?: unknown };
    if (typeof parsed.message === 'string') return parsed.message.slice(0, 200);
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

/** Credentials that never change: for local mode (a token from the environment) and tests. */
export function staticCredentials(credentials: SocialPlusCredentials): SocialPlusCredentialsSource {
  if (credentials.adminToken.trim() === '') throw new SocialPlusArgumentError('the Social Plus admin token is empty');
  return { get: async () => credentials };
}
