/**
 * The example handlers' configuration: one JSON object (the `HANDLERS_CONFIG` environment variable,
 * built by the stack from the CDK context key `handlers`). Every handler is off unless its
 * `enabled` is true. Validation collects every problem and names its key, value and what is allowed.
 */
import { z } from 'zod';
import { errorMessage, SocialPlusWebhooksError } from '../../core/errors.js';
import { assertValidPattern } from '../../core/routing.js';
import { SOCIALPLUS_API_HOSTS } from '../kit/social-plus-client.js';

/** The flag events auto-moderation can count. */
export const FLAG_EVENTS = ['message.didFlag', 'post.didFlag', 'comment.didFlag', 'user.didFlag'] as const;
export type FlagEvent = (typeof FLAG_EVENTS)[number];

/** What the keyword filter can check. */
export const KEYWORD_TARGETS = ['messages', 'comments', 'posts'] as const;

const pattern = z.string().superRefine((p, ctx) => {
  try {
    assertValidPattern(p);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err) });
  }
});

/** Whether a URL names this machine (localhost, 127.0.0.0/8, [::1]). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);

const SocialPlusConfigSchema = z.strictObject({
  /** The network's region; picks the API host. */
  region: z.enum(Object.keys(SOCIALPLUS_API_HOSTS) as [keyof typeof SOCIALPLUS_API_HOSTS]).optional(),
  /**
   * Another API host (a proxy); overrides `region`. HTTPS, or plain HTTP to this machine only (a
   * local fake or proxy): the admin token travels in every request.
   */
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .refine((u) => u.startsWith('https:') || isLoopbackUrl(u), {
      message:
        'must be https:// (plain http:// only for this machine: localhost, 127.0.0.0/8 or [::1]), since the admin token travels with every request',
    })
    .optional(),
  /** Log the calls instead of making them. */
  dryRun: z.boolean().default(false),
  timeoutMs: int(100, 30_000).default(5_000),
  maxAttempts: int(1, 10).default(3),
  /** Webhook sources whose events may call the API (the client is for one network); default: every source. */
  sources: z.array(z.string().min(1)).min(1).optional(),
});

const AutoModerationSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Which flags count. */
  events: z
    .array(z.enum(FLAG_EVENTS))
    .min(1)
    .default([...FLAG_EVENTS]),
  /** Flags within the window that trigger the action. */
  threshold: int(1, 10_000).default(5),
  /** The sliding window. */
  windowMinutes: int(1, 43_200).default(60),
  /** `global`: ban from the network; `scoped`: from the flagged message's channel or the post's or comment's community; `none`: count only. */
  ban: z.enum(['global', 'scoped', 'none']).default('global'),
  /** Also delete the flagged message, post or comment once the threshold is reached. */
  deleteFlaggedContent: z.boolean().default(false),
  /** How long a ban is remembered, so the user is not banned again meanwhile. @default windowMinutes */
  banHoldMinutes: int(1, 525_600).optional(),
});

const KeywordFilterSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Words or phrases; matched case-insensitively, as whole words. */
  words: z.array(z.string().trim().min(1, 'a word must not be empty')).default([]),
  targets: z.array(z.enum(KEYWORD_TARGETS)).min(1).default(['messages', 'comments']),
  /** Delete permanently instead of soft-deleting (v5 messages, posts and comments). */
  permanent: z.boolean().default(false),
});

const DailyCountersSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Days counters are kept after their day. */
  retentionDays: int(1, 3_650).default(400),
});

const EventBridgeSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Which events to forward: exact names, `family.*` or `*`. */
  events: z.array(pattern).min(1).default(['*']),
});

/** The whole `HANDLERS_CONFIG` object. Unknown keys are errors, so a typo is caught at deploy. */
export const HandlersConfigSchema = z
  .strictObject({
    socialPlus: SocialPlusConfigSchema.optional(),
    autoModeration: AutoModerationSchema.prefault({}),
    keywordFilter: KeywordFilterSchema.prefault({}),
    dailyCounters: DailyCountersSchema.prefault({}),
    eventBridge: EventBridgeSchema.prefault({}),
    /**
     * How long an invocation holds an event's ban claim or count before another may take it over.
     * Must exceed the fan-out's timeout (only then is the holder surely gone): the stack sets it to
     * at least twice `fanoutTimeoutSeconds`.
     */
    claimLeaseSeconds: int(10, 3_600).default(120),
  })
  .superRefine((c, ctx) => {
    if (c.keywordFilter.enabled && c.keywordFilter.words.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['keywordFilter', 'words'], message: 'the keyword filter is enabled but has no words' });
    }
    const needsApi =
      (c.autoModeration.enabled && (c.autoModeration.ban !== 'none' || c.autoModeration.deleteFlaggedContent)) || c.keywordFilter.enabled;
    if (needsApi && !c.socialPlus?.dryRun && c.socialPlus?.region === undefined && c.socialPlus?.baseUrl === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['socialPlus', 'region'],
        message: `an enabled handler calls the Social Plus API: give socialPlus.region (one of ${Object.keys(SOCIALPLUS_API_HOSTS).join(', ')}) or socialPlus.baseUrl, or set socialPlus.dryRun`,
      });
    }
  });

export type HandlersConfig = z.output<typeof HandlersConfigSchema>;
export type AutoModerationConfig = HandlersConfig['autoModeration'];
export type KeywordFilterConfig = HandlersConfig['keywordFilter'];
export type DailyCountersConfig = HandlersConfig['dailyCounters'];
export type EventBridgeConfig = HandlersConfig['eventBridge'];
export type SocialPlusConfig = NonNullable<HandlersConfig['socialPlus']>;

/** `HANDLERS_CONFIG` (or the CDK key `handlers`) is not valid; the message lists every problem. */
export class HandlersConfigError extends SocialPlusWebhooksError {
  constructor(
    readonly where: string,
    readonly problems: readonly string[],
  ) {
    super(`${where} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'HandlersConfigError';
  }
}

/**
 * Validates a configuration object (already parsed JSON) and fills in the defaults. `where` names
 * its origin in errors, e.g. `HANDLERS_CONFIG` or `context key 'handlers'`.
 */
export function parseHandlersConfig(value: unknown, where = 'HANDLERS_CONFIG'): HandlersConfig {
  const result = HandlersConfigSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new HandlersConfigError(
    where,
    result.error.issues.map((i) => describeIssue(where, i, value)),
  );
}

/** As {@link parseHandlersConfig}, from JSON text (unset or blank: everything off). */
export function parseHandlersConfigJson(text: string | undefined, where = 'HANDLERS_CONFIG'): HandlersConfig {
  if (text === undefined || text.trim() === '') return parseHandlersConfig({}, where);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HandlersConfigError(where, [`not JSON (${errorMessage(err)}); got '${text.slice(0, 80)}'`]);
  }
  return parseHandlersConfig(value, where);
}

function describeIssue(where: string, issue: z.core.$ZodIssue, root: unknown): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  const key = `${where}${path}`;
  if (issue.code === 'unrecognized_keys') return `${key}: unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  const got = valueAt(root, issue.path);
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 80)}`;
  return `${key}: ${issue.message}${shown}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let at = root;
  for (const k of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[k];
  }
  return at;
}
