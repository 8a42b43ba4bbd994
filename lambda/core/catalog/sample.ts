/**
 * Sample payloads generated from the catalog: a realistic envelope for every event name of
 * `../catalog.ts`, current and deprecated, push notifications included. `send` posts one when no
 * sample is shipped in `fixtures/samples/`, and the handler kit's `sampleEvent` builds one likewise.
 *
 * Each sample has the raw name as Social Plus sends it (`v3.post.didApprove`), and a `data` with
 * the entities of its family (WEBHOOKS §5-§6 as the schemas of `./events.ts` type them) whose ids
 * agree with each other: the author of a post is in `users[]` and `communityUsers[]`, a message's
 * `path` names its channel, a reactor is a user of the network. The same name and seed always give
 * the same payload (so the same event id); another seed gives other people, ids, texts and times.
 *
 * Pure: no I/O, no clock, no zod (the schemas check the output in the tests, not here).
 */
import {
  DEPRECATED_EVENT_NAMES,
  KNOWN_EVENT_TYPES,
  PUSH_NOTIFICATION_NAMES,
  PUSH_NOTIFICATION_PREFIX,
  V3_PREFIXED_FAMILIES,
} from '../catalog.js';

/** One name `send` knows, as it lists it. */
export interface SampleName {
  /**
   * The name as Social Plus sends it: `v3.post.didApprove`, `message.didCreate`, the deprecated
   * `v3.video-streaming.didStart`; for a push notification its routing name
   * (`push-notification.post.created`), the trigger being `data.eventName`.
   */
  readonly name: string;
  /** The routing name the fan-out gives it (`ctx.eventType`): `post.didApprove`. */
  readonly eventType: string;
  /** The routing name's first segment: `post`, `communityJoinRequest`, `push-notification`. */
  readonly family: string;
  /** On the deprecated legacy list: delivered only to handlers that name it exactly. */
  readonly deprecated: boolean;
}

/** A JSON object. */
export type SamplePayload = Record<string, unknown>;

/** The seed of `send <name>` and `sampleEvent(name)` when none is given. */
export const DEFAULT_SAMPLE_SEED = 1;

const VERSION_PREFIX = /^v\d+\./;

let names: readonly SampleName[] | undefined;

/**
 * Every name of the catalog, once each, family by family in the catalog's order: the current
 * names as sent (`v3.` for posts, comments and communities), the deprecated legacy names, and the
 * push-notification names.
 */
export function catalogSampleNames(): readonly SampleName[] {
  if (names) return names;
  const out: SampleName[] = [];
  const seen = new Set<string>();
  const add = (name: string, eventType: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    out.push({ name, eventType, family: familyOf(eventType), deprecated: DEPRECATED_EVENT_NAMES.has(name) });
  };
  for (const eventType of KNOWN_EVENT_TYPES) {
    const prefixed = `v3.${eventType}`;
    // A `v3.` family sends the prefixed name, unless that is the deprecated spelling (live video).
    const v3 = V3_PREFIXED_FAMILIES.some((f) => eventType.startsWith(`${f}.`)) && !DEPRECATED_EVENT_NAMES.has(prefixed);
    add(v3 ? prefixed : eventType, eventType);
    if (DEPRECATED_EVENT_NAMES.has(prefixed)) add(prefixed, eventType);
  }
  for (const name of DEPRECATED_EVENT_NAMES) add(name, name.replace(VERSION_PREFIX, ''));
  for (const push of PUSH_NOTIFICATION_NAMES) add(`${PUSH_NOTIFICATION_PREFIX}.${push}`, `${PUSH_NOTIFICATION_PREFIX}.${push}`);
  // Family by family (the legacy names join their family), each in the catalog's order.
  const families = [...new Set(out.map((n) => n.family))];
  names = out.map((n, i) => ({ n, i })).sort((a, b) => families.indexOf(a.n.family) - families.indexOf(b.n.family) || a.i - b.i).map(({ n }) => n);
  return names;
}

function familyOf(eventType: string): string {
  return eventType.startsWith(`${PUSH_NOTIFICATION_PREFIX}.`) ? PUSH_NOTIFICATION_PREFIX : (eventType.split('.')[0] ?? '');
}

/**
 * The catalog name `name` stands for: the name as sent (`v3.post.didApprove`), or, without a
 * version prefix, the routing name of a current event (`post.didApprove`). A deprecated spelling is
 * found only as itself. Undefined when the catalog has no such name.
 */
export function findSampleName(name: string): SampleName | undefined {
  const all = catalogSampleNames();
  return all.find((n) => n.name === name)
    ?? (VERSION_PREFIX.test(name) ? undefined : all.find((n) => n.eventType === name && !n.deprecated));
}

/**
 * A generated payload for a catalog name (see {@link findSampleName}), deterministic for a given
 * seed (a whole number from 0 to 2^32 - 1). Throws on a name outside the catalog.
 */
export function generateSample(name: string, seed: number = DEFAULT_SAMPLE_SEED): SamplePayload {
  const entry = findSampleName(name);
  if (!entry) throw new Error(`'${name}' is not an event name of the catalog`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new RangeError(`the seed must be a whole number from 0 to ${0xffff_ffff}, got ${seed}`);
  const w = new World(seed);
  if (entry.family === PUSH_NOTIFICATION_PREFIX) return pushNotification(entry.eventType.slice(PUSH_NOTIFICATION_PREFIX.length + 1), w);
  const build = FAMILIES[entry.family];
  if (!build) throw new Error(`no sample generator for the family '${entry.family}' of '${name}'`);
  const action = entry.eventType.slice(entry.family.length + 1);
  const data = build(entry.deprecated ? (LEGACY_ACTIONS[action] ?? action) : action, w, entry.family);
  // `file.didDelete` has a top-level networkId beside the File (§5.12).
  return entry.family === 'file' ? { event: entry.name, networkId: NETWORK_ID, data } : { event: entry.name, data };
}

/** The legacy names' current equivalents (WEBHOOKS §5.14): `channel.joined` has the shape of `channel.didJoin`. */
const LEGACY_ACTIONS: Readonly<Record<string, string>> = { created: 'didCreate', joined: 'didJoin', membersAdded: 'didAddUsers' };

// ---------------------------------------------------------------------------------------------
// The people, places and things of one sample.

const NETWORK_ID = '64e0aa11bb22cc33dd44ee55';

const PEOPLE: ReadonlyArray<readonly [string, string]> = [
  ['mika.tan', 'Mika Tan'], ['ben.w', 'Ben W'], ['nok.s', 'Nok S'], ['raj.p', 'Raj P'],
  ['alina.k', 'Alina K'], ['tom.h', 'Tom H'], ['sara.l', 'Sara L'], ['kenji.o', 'Kenji O'],
];
const CHANNELS: ReadonlyArray<readonly [string, string]> = [
  ['support-lobby', 'Support Lobby'], ['general', 'General'], ['trail-runners-bkk', 'Trail Runners BKK'], ['orders-help', 'Orders Help'],
];
const COMMUNITIES: ReadonlyArray<readonly [string, string, string]> = [
  ['Trail Runners BKK', 'Sunday long runs and race talk', 'Sports'],
  ['Sourdough Club', 'Starters, crumb shots, oven talk', 'Food & Drink'],
  ['Night Photographers', 'City lights after dark', 'Photography'],
  ['Board Game Nights', 'Weekly meetups and reviews', 'Games'],
];
const TEXTS = [
  'Has anyone tried the new checkout flow?', 'Sunday 6am long run, meet at the park gate', 'Count me in!',
  'Order #5531 still not shipped', 'Proofing overnight in the fridge worked great', 'Which lens for the skyline shots?',
];
const TAGS = ['trail-running', 'sourdough', 'night-shots', 'board-games'];

interface Person {
  readonly userId: string;
  readonly displayName: string;
  readonly internalId: string;
  readonly createdAt: string;
}

/** A small deterministic generator (mulberry32). */
class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

/** Everything one sample mentions, drawn once from the seed so every reference agrees. */
class World {
  private readonly rng: Rng;
  /** When the event happened: the primary entity's `updatedAt`. */
  readonly now: number;
  /** Who acted: sender, author, creator, follower, reactor's subject… */
  readonly actor: Person;
  /** The other side: reactor, flagger, followee, added or banned member. */
  readonly other: Person;
  /** A moderator or a third member. */
  readonly third: Person;
  readonly channel: { readonly channelId: string; readonly internalId: string; readonly displayName: string };
  readonly community: { readonly communityId: string; readonly displayName: string; readonly description: string; readonly categoryId: string; readonly category: string };
  readonly text: string;

  constructor(seed: number) {
    this.rng = new Rng(seed);
    this.now = Date.UTC(2025, 6, 2, 8, 0, 0) + this.rng.int(10 * 3600 * 1000);
    const order = [...PEOPLE.keys()];
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const [a, b, c] = order.slice(0, 3).map((i) => this.person(PEOPLE[i] as readonly [string, string]));
    this.actor = a as Person;
    this.other = b as Person;
    this.third = c as Person;
    const [channelId, channelName] = this.rng.pick(CHANNELS);
    this.channel = { channelId, internalId: this.objectId(), displayName: channelName };
    const [communityName, description, category] = this.rng.pick(COMMUNITIES);
    this.community = { communityId: this.objectId(), displayName: communityName, description, categoryId: this.objectId(), category };
    this.text = this.rng.pick(TEXTS);
  }

  /** A 24-hex-digit id like the ones Social Plus gives (a MongoDB ObjectId). */
  objectId(): string {
    let hex = '665';
    while (hex.length < 24) hex += this.rng.int(16).toString(16);
    return hex;
  }

  /** An ISO time `minutesBefore` minutes before the event (0: the event's own time). */
  time(minutesBefore = 0): string {
    return new Date(this.now - minutesBefore * 60_000).toISOString();
  }

  int(below: number): number {
    return this.rng.int(below);
  }

  pick<T>(items: readonly T[]): T {
    return this.rng.pick(items);
  }

  private person([userId, displayName]: readonly [string, string]): Person {
    return { userId, displayName, internalId: this.objectId(), createdAt: new Date(Date.UTC(2024, 10, 1) + this.rng.int(200) * 86_400_000).toISOString() };
  }
}

// ---------------------------------------------------------------------------------------------
// Entities (WEBHOOKS §6).

function user(w: World, p: Person, extra: SamplePayload = {}): SamplePayload {
  return {
    _id: p.internalId,
    path: `${NETWORK_ID}/user/${p.internalId}`,
    userId: p.userId,
    userInternalId: p.internalId,
    userPublicId: p.userId,
    roles: [],
    permissions: [],
    displayName: p.displayName,
    flagCount: 0,
    metadata: {},
    isGlobalBan: false,
    isBrand: false,
    isDeleted: false,
    createdAt: p.createdAt,
    updatedAt: w.time(60 * 24),
    ...extra,
  };
}

function channel(w: World, extra: SamplePayload = {}): SamplePayload {
  return {
    _id: w.channel.internalId,
    path: `${NETWORK_ID}/chat/${w.channel.channelId}`,
    channelId: w.channel.channelId,
    channelInternalId: w.channel.internalId,
    channelPublicId: w.channel.channelId,
    isDistinct: false,
    metadata: {},
    type: 'community',
    tags: [],
    isMuted: false,
    isRateLimited: false,
    rateLimit: 0,
    rateLimitWindow: 1000,
    displayName: w.channel.displayName,
    messageAutoDeleteEnabled: false,
    autoDeleteMessageByFlagLimit: 0,
    memberCount: 42,
    messageCount: 310,
    lastActivity: w.time(),
    isDeleted: false,
    isPublic: true,
    notificationMode: 'default',
    createdAt: '2025-01-15T09:00:00.000Z',
    updatedAt: w.time(),
    ...extra,
  };
}

function message(w: World, author: Person, extra: SamplePayload = {}): SamplePayload {
  const id = w.objectId();
  const sentAt = w.time(5);
  return {
    _id: id,
    path: `${NETWORK_ID}/chat/${w.channel.channelId}/${id}`,
    messageId: id,
    parentId: null,
    childrenNumber: 0,
    channelId: w.channel.channelId,
    userId: author.userId,
    type: 'text',
    tags: [],
    data: { text: w.text },
    isDeleted: false,
    channelSegment: 100 + w.int(900),
    flagCount: 0,
    hashFlag: null,
    reactions: {},
    reactionsCount: 0,
    mentionees: [],
    createdAt: sentAt,
    updatedAt: w.time(),
    editedAt: sentAt,
    ...extra,
  };
}

function hashFlag(w: World): SamplePayload {
  const hex = () => w.objectId().slice(-4);
  return { bits: 64, hashes: 3, hash: [hex(), hex(), hex()] };
}

function reactor(w: World, who: Person, reactionName: string): SamplePayload {
  return {
    reactionName,
    userId: who.userId,
    userPublicIdId: who.userId,
    userInternalId: who.internalId,
    reactionId: w.objectId(),
    createdAt: w.time(),
    updatedAt: w.time(),
  };
}

function community(w: World, owner: Person, extra: SamplePayload = {}): SamplePayload {
  const c = w.community;
  return {
    _id: c.communityId,
    path: `${NETWORK_ID}/social/community/${c.communityId}`,
    communityId: c.communityId,
    channelId: c.communityId,
    userId: owner.userId,
    userPublicId: owner.userId,
    userInternalId: owner.internalId,
    displayName: c.displayName,
    description: c.description,
    isOfficial: false,
    isPublic: true,
    onlyAdminCanPost: false,
    tags: [],
    metadata: {},
    postsCount: 57,
    membersCount: 311,
    isJoined: true,
    categoryIds: [c.categoryId],
    isDeleted: false,
    hasFlaggedComment: false,
    hasFlaggedPost: false,
    needApprovalOnPostCreation: false,
    moderatorMemberCount: 2,
    allowCommentInStory: true,
    notificationMode: 'default',
    isDiscoverable: true,
    requiresJoinApproval: false,
    type: 'default',
    createdAt: '2024-11-01T00:00:00.000Z',
    updatedAt: w.time(),
    ...extra,
  };
}

function communityUser(w: World, p: Person, extra: SamplePayload = {}): SamplePayload {
  return {
    userId: p.userId,
    userPublicId: p.userId,
    userInternalId: p.internalId,
    channelId: w.community.communityId,
    communityId: w.community.communityId,
    communityMembership: 'member',
    isBanned: false,
    lastActivity: w.time(),
    roles: [],
    permissions: [],
    createdAt: p.createdAt,
    updatedAt: w.time(),
    ...extra,
  };
}

function category(w: World): SamplePayload {
  return { categoryId: w.community.categoryId, name: w.community.category, metadata: {}, isDeleted: false, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' };
}

function post(w: World, author: Person, extra: SamplePayload = {}): SamplePayload {
  const id = w.objectId();
  const c = w.community.communityId;
  const postedAt = w.time(30);
  return {
    _id: id,
    path: `${NETWORK_ID}/social/community/${c}/post/${id}`,
    postId: id,
    parentPostId: null,
    postedUserId: author.userId,
    postedUserPublicId: author.userId,
    postedUserInternalId: author.internalId,
    sharedCount: 0,
    targetId: c,
    targetPublicId: c,
    targetInternalId: c,
    targetType: 'community',
    dataType: 'text',
    data: { text: w.text },
    metadata: {},
    flagCount: 0,
    hashFlag: null,
    reactions: {},
    reactionsCount: 0,
    commentsCount: 0,
    comments: [],
    children: [],
    isDeleted: false,
    hasFlaggedComment: false,
    hasFlaggedChildren: false,
    feedId: w.objectId(),
    tags: [],
    mentionees: [],
    impression: 0,
    reach: 0,
    createdAt: postedAt,
    updatedAt: w.time(),
    editedAt: postedAt,
    ...extra,
  };
}

function comment(w: World, author: Person, postId: string, extra: SamplePayload = {}): SamplePayload {
  const id = w.objectId();
  const postedAt = w.time(10);
  return {
    _id: id,
    path: `${NETWORK_ID}/social/post/${postId}/comment/${id}`,
    commentId: id,
    userId: author.userId,
    userPublicId: author.userId,
    userInternalId: author.internalId,
    parentId: null,
    rootId: null,
    referenceId: postId,
    referenceType: 'post',
    dataType: 'text',
    dataTypes: ['text'],
    data: { text: w.text },
    metadata: {},
    childrenNumber: 0,
    flagCount: 0,
    hashFlag: null,
    reactions: {},
    reactionsCount: 0,
    isDeleted: false,
    children: [],
    segmentNumber: 1 + w.int(20),
    mentionees: [],
    attachments: [],
    targetId: w.community.communityId,
    targetType: 'community',
    createdAt: postedAt,
    updatedAt: w.time(),
    editedAt: postedAt,
    ...extra,
  };
}

function stream(w: World, host: Person, extra: SamplePayload = {}): SamplePayload {
  return {
    streamId: w.objectId(),
    userId: host.userId,
    userPublicId: host.userId,
    userInternalId: host.internalId,
    thumbnailFileId: w.objectId(),
    title: `${w.community.displayName} live`,
    description: w.text,
    status: 'idle',
    isLive: false,
    isDeleted: false,
    platform: 'ios',
    resolution: 'HD',
    metadata: {},
    createdAt: w.time(5),
    updatedAt: w.time(),
    ...extra,
  };
}

function file(w: World, extra: SamplePayload = {}): SamplePayload {
  const id = w.objectId();
  return {
    fileId: id,
    fileUrl: `https://files.example.invalid/${id}`,
    type: 'image',
    accessType: 'public',
    altText: 'photo',
    attributes: { name: 'photo.jpg', extension: 'jpg', size: 100_000 + w.int(900_000), mimeType: 'image/jpeg', metadata: {} },
    createdAt: w.time(60),
    updatedAt: w.time(),
    ...extra,
  };
}

function poll(w: World, author: Person, extra: SamplePayload = {}): SamplePayload {
  return {
    pollId: w.objectId(),
    userId: author.userId,
    question: 'Sunday: 10 km or 21 km?',
    answerType: 'single',
    answers: [
      { id: 'a1', dataType: 'text', data: { text: '10 km' }, voteCount: 0, isVotedByUser: false },
      { id: 'a2', dataType: 'text', data: { text: '21 km' }, voteCount: 0, isVotedByUser: false },
    ],
    status: 'open',
    closedIn: 86_400_000,
    isVoted: false,
    isDeleted: false,
    createdAt: w.time(),
    updatedAt: w.time(),
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// `data` per family; `action` is the routing name's last part (`didApprove`).

type FamilyBuilder = (action: string, w: World, family: string) => SamplePayload;

const FAMILIES: Readonly<Record<string, FamilyBuilder>> = {
  channel: channelData,
  message: messageData,
  moderation: (_action, w) => ({ channel: [channel(w)], users: [user(w, w.actor)], userId: w.actor.userId }),
  post: postData,
  comment: commentData,
  community: communityData,
  communityJoinRequest: communityData,
  communityMemberInvitation: communityData,
  poll: pollData,
  follow: followData,
  user: userData,
  'video-streaming': streamData,
  tag: (action, w) => {
    const id = w.objectId();
    return { _id: id, tagId: id, name: w.pick(TAGS), createdAt: action === 'created' ? w.time() : w.time(60 * 24), updatedAt: w.time() };
  },
  file: (_action, w) => file(w),
};

function channelData(action: string, w: World): SamplePayload {
  const { actor, other, third } = w;
  switch (action) {
    case 'didCreate':
      return {
        channel: [channel(w, { memberCount: 2, messageCount: 0, createdAt: w.time(), lastActivity: w.time() })],
        userIds: [actor.userId, other.userId],
        users: [user(w, actor, { roles: ['channel-moderator'] }), user(w, other)],
      };
    case 'didUpdate':
    case 'didUpdateMeta':
      return { channel: [channel(w, action === 'didUpdateMeta' ? { metadata: { topic: 'weekend plans' } } : { displayName: `${w.channel.displayName} (new)` })], userId: actor.userId, users: [user(w, actor)] };
    case 'didClose':
      return { channel: [channel(w, { type: 'conversation', isPublic: false, memberCount: 2 })], userId: actor.userId, users: [user(w, actor)] };
    case 'didJoin':
    case 'didLeave':
      return { channel: [channel(w)], userIds: [actor.userId], users: [user(w, actor)] };
    case 'didAddUsers':
      return { channel: [channel(w)], adderId: actor.userId, userIds: [other.userId, third.userId], users: [user(w, other), user(w, third)] };
    case 'didRemoveUsers':
      return { channel: [channel(w)], removerId: actor.userId, userIds: [other.userId], users: [user(w, other)] };
    case 'didBan':
      return { channel: [channel(w)], actorId: actor.userId, userIds: [other.userId], users: [user(w, other, { flagCount: 4 })] };
    case 'didDelete':
      return { channel: [channel(w, { isDeleted: true })], userId: actor.userId, users: [user(w, actor)] };
    default:
      return { channel: [channel(w)], users: [user(w, actor)] };
  }
}

function messageData(action: string, w: World): SamplePayload {
  const { actor, other } = w;
  const plain = (extra: SamplePayload = {}) => ({ messages: [message(w, actor, extra)], users: [user(w, actor)], files: [] });
  switch (action) {
    case 'didUpdate':
      return plain({ data: { text: `${w.text} (edited)` }, editedAt: w.time() });
    case 'didDelete':
      return plain({ isDeleted: true });
    case 'didFlag':
      return plain({ flagCount: 1 + w.int(3), hashFlag: hashFlag(w) });
    case 'didUnflag':
    case 'didClearflag':
      return plain({ flagCount: 0, hashFlag: null });
    case 'didAddReaction':
    case 'didRemoveReaction': {
      const added = action === 'didAddReaction';
      return {
        messages: [message(w, actor, { reactions: added ? { like: 1 } : {}, reactionsCount: added ? 1 : 0 })],
        users: [user(w, other)],
        files: [],
        reactor: reactor(w, other, 'like'),
      };
    }
    default:
      return plain();
  }
}

function postData(action: string, w: World): SamplePayload {
  const { actor, other } = w;
  const reacted = action === 'didAddReaction' || action === 'didReact';
  const extra: SamplePayload =
    action === 'didUpdate' ? { data: { text: `${w.text} (edited)` }, editedAt: w.time() }
      : action === 'didDelete' || action === 'didDecline' ? { isDeleted: true }
        : action === 'didFlag' || action === 'didModerate' ? { flagCount: 1 + w.int(3), hashFlag: hashFlag(w) }
          : reacted ? { reactions: { like: 1 }, reactionsCount: 1 }
            : {};
  const data: SamplePayload = {
    posts: [post(w, actor, extra)],
    postChildren: [],
    comments: [],
    communities: [community(w, w.third, action === 'didApprove' || action === 'didDecline' ? { needApprovalOnPostCreation: true } : {})],
    communityUsers: [communityUser(w, actor)],
    users: [user(w, actor)],
    files: [],
    categories: [category(w)],
    feeds: [],
    videoStreamings: [],
  };
  if (action === 'didFlag' || action === 'didUnflag') data.flaggedUserId = other.userId;
  if (reacted || action === 'didRemoveReaction') {
    data.reactor = reactor(w, other, 'like');
    data.users = [user(w, actor), user(w, other)];
  }
  return data;
}

function commentData(action: string, w: World): SamplePayload {
  const { actor, other } = w;
  const postId = w.objectId();
  const reacted = action === 'didAddReaction';
  let extra: SamplePayload = {};
  if (action === 'didUpdate') extra = { data: { text: `${w.text} (edited)` }, editedAt: w.time() };
  else if (action === 'didDelete') extra = { isDeleted: true };
  else if (action === 'didFlag' || action === 'didModerate') extra = { flagCount: 1 + w.int(3), hashFlag: hashFlag(w) };
  else if (reacted) extra = { reactions: { like: 1 }, reactionsCount: 1 };
  else if (action === 'didReply') {
    const parentId = w.objectId();
    extra = { parentId, rootId: parentId };
  }
  const data: SamplePayload = {
    comments: [comment(w, actor, postId, extra)],
    commentChildren: [],
    communityUsers: [communityUser(w, actor)],
    users: [user(w, actor)],
    files: [],
  };
  if (action === 'didFlag' || action === 'didUnflag') data.flaggedUserId = other.userId;
  if (reacted || action === 'didRemoveReaction') {
    data.reactor = reactor(w, other, 'like');
    data.users = [user(w, actor), user(w, other)];
  }
  return data;
}

/** `community.*`, `communityJoinRequest.*`, `communityMemberInvitation.*`: `communityUsers[0]` is who the event is about. */
function communityData(action: string, w: World, family: string): SamplePayload {
  const { actor, third } = w;
  const membership = (extra: SamplePayload) => communityUser(w, actor, extra);
  let member: SamplePayload = membership({});
  let communityExtra: SamplePayload = {};
  if (family === 'communityJoinRequest') {
    communityExtra = { requiresJoinApproval: true, isPublic: false, isJoined: false };
    member = membership({ communityMembership: action === 'didAccept' ? 'member' : 'none' });
  } else if (family === 'communityMemberInvitation') {
    member = membership({ communityMembership: action === 'didAccept' ? 'member' : 'none' });
  } else {
    switch (action) {
      case 'didCreate':
        communityExtra = { membersCount: 1, postsCount: 0, moderatorMemberCount: 1, createdAt: w.time() };
        member = membership({ roles: ['community-moderator'] });
        break;
      case 'didDelete':
        communityExtra = { isDeleted: true };
        break;
      case 'didLeave':
      case 'didRemoveUsers':
        member = membership({ communityMembership: 'none' });
        break;
      case 'didBan':
        member = membership({ communityMembership: 'banned', isBanned: true });
        break;
      case 'didRoleChange':
        member = membership({ roles: ['community-moderator'] });
        break;
      default:
        break;
    }
  }
  const owner = family === 'community' && action === 'didCreate' ? actor : third;
  return {
    communities: [community(w, owner, communityExtra)],
    communityUsers: [member],
    files: [],
    users: [user(w, actor)],
    categories: [category(w)],
    feeds: [],
  };
}

function pollData(action: string, w: World): SamplePayload {
  const extra: SamplePayload = action === 'didUpdate'
    ? { status: 'closed', closedAt: w.time(), createdAt: w.time(60) }
    : action === 'didVote'
      ? {
          answers: [
            { id: 'a1', dataType: 'text', data: { text: '10 km' }, voteCount: 12, isVotedByUser: false },
            { id: 'a2', dataType: 'text', data: { text: '21 km' }, voteCount: 7, isVotedByUser: false },
          ],
          createdAt: w.time(60),
        }
      : {};
  return { polls: [poll(w, w.actor, extra)], users: [user(w, w.actor)] };
}

/** Follow statuses (§5.8): accepted, pending, or none once a request or follow is gone. */
const FOLLOW_STATUS: Readonly<Record<string, string>> = { didCreate: 'accepted', didAcceptRequest: 'accepted', didRequest: 'pending', didFollow: 'accepted', didBlock: 'blocked' };

function followData(action: string, w: World): SamplePayload {
  return { from: w.actor.userId, to: w.other.userId, status: FOLLOW_STATUS[action] ?? 'none', createdAt: w.time(action === 'didCreate' || action === 'didRequest' ? 0 : 60 * 24), updatedAt: w.time() };
}

function userData(action: string, w: World): SamplePayload {
  // §5.9 user events shaped like follows.
  if (action === 'didBlock' || action === 'didUnblock' || action === 'didFollow') return followData(action, w);
  const { actor, other } = w;
  let extra: SamplePayload;
  switch (action) {
    case 'didCreate':
      extra = { createdAt: w.time(), updatedAt: w.time() };
      break;
    case 'didUpdate':
      extra = { description: 'Runner, baker, night owl', updatedAt: w.time() };
      break;
    case 'didFlag':
      extra = { flagCount: 1 + w.int(3), flags: [{ reportType: 'user', reason: 'spam', comment: 'posts links everywhere', userId: other.userId }], updatedAt: w.time() };
      break;
    case 'didUnflag':
    case 'didClearFlag':
      extra = { flagCount: 0, flags: [], updatedAt: w.time() };
      break;
    case 'profileReset':
      extra = { displayName: actor.userId, description: '', avatarFileId: null, metadata: {}, updatedAt: w.time() };
      break;
    case 'didBan':
      extra = { isGlobalBan: true, flagCount: 4, updatedAt: w.time() };
      break;
    default:
      extra = { updatedAt: w.time() };
      break;
  }
  return { users: [user(w, actor, extra)], files: [] };
}

function streamData(action: string, w: World): SamplePayload {
  const extra: SamplePayload =
    action === 'didStart' ? { status: 'live', isLive: true, startedAt: w.time() }
      : action === 'didStop' ? { status: 'ended', isLive: false, startedAt: w.time(45), endedAt: w.time() }
        : action === 'didRecord' ? { status: 'recorded', isLive: false, startedAt: w.time(60), endedAt: w.time(15), recordings: [{ mp4: `https://files.example.invalid/${w.objectId()}.mp4` }] }
          : {};
  return { videoStreamings: [stream(w, w.actor, extra)], users: [user(w, w.actor)], files: [] };
}

/** §5.11: `data.eventName` carries the trigger; the entity it is about sits under `data`, the recipients in `targetIds`. */
function pushNotification(eventName: string, w: World): SamplePayload {
  const { actor, other } = w;
  const [subject = ''] = eventName.split('.');
  const data: SamplePayload = { eventName, isBroadcast: false, targetIds: [other.userId], notify: true, title: actor.displayName, body: w.text };
  let path = `${NETWORK_ID}/user/${actor.internalId}`;
  const mention = subject.startsWith('mention-');
  const mentionees = mention ? [{ type: 'user', userIds: [other.userId] }] : [];
  const onUserFeed = subject.startsWith('mention-user-feed-');
  const postOf = (extra: SamplePayload = {}) => post(w, actor, {
    mentionees,
    ...(onUserFeed ? { targetType: 'user', targetId: actor.userId, targetPublicId: actor.userId, targetInternalId: actor.internalId } : {}),
    ...extra,
  });
  if (subject === 'channel') {
    data.channels = [channel(w)];
    path = `${NETWORK_ID}/chat/${w.channel.channelId}`;
    data.body = eventName === 'channel.joined' ? `${actor.displayName} joined ${w.channel.displayName}` : `${actor.displayName} added you to ${w.channel.displayName}`;
  } else if (subject === 'message') {
    const m = message(w, actor);
    data.messages = [m];
    path = m.path as string;
  } else if (subject === 'post' || subject === 'mention-post' || subject === 'mention-user-feed-post') {
    const p = postOf();
    if (onUserFeed) p.path = `${NETWORK_ID}/social/user/${actor.internalId}/post/${p.postId as string}`;
    data.posts = [p];
    if (!onUserFeed) data.communities = [community(w, w.third)];
    path = p.path as string;
    if (eventName === 'post.need-reviewing') data.targetIds = [w.third.userId];
  } else if (subject === 'comment' || subject === 'mention-comment' || subject === 'mention-user-feed-comment') {
    const p = postOf({ postedUserId: other.userId, postedUserPublicId: other.userId, postedUserInternalId: other.internalId });
    if (onUserFeed) p.path = `${NETWORK_ID}/social/user/${actor.internalId}/post/${p.postId as string}`;
    const parentId = eventName.endsWith('.replied') ? w.objectId() : null;
    const c = comment(w, actor, p.postId as string, { mentionees, parentId, rootId: parentId });
    data.comments = [c];
    data.posts = [p];
    path = c.path as string;
  } else if (subject === 'video-streaming') {
    const s = stream(w, actor, { status: 'live', isLive: true, startedAt: w.time() });
    data.videoStreamings = [s];
    data.body = `${actor.displayName} is live: ${s.title as string}`;
  } else if (subject === 'follow') {
    data.body = eventName === 'follow.requested' ? `${actor.displayName} asked to follow you` : eventName === 'follow.accepted' ? `${actor.displayName} accepted your request` : `${actor.displayName} followed you`;
  }
  data.users = [user(w, actor)];
  return {
    eventType: `${PUSH_NOTIFICATION_PREFIX}.created`,
    id: w.objectId(),
    networkId: NETWORK_ID,
    path,
    senderId: actor.userId,
    sentTime: w.time(),
    version: '1',
    data,
  };
}
