/**
 * Who did what to which entity, read from a payload (docs/social-plus.md §6 and §7). Every field is optional:
 * payload facts are uncertain, so a missing field yields undefined, never an error.
 */
export interface EventEntities {
  /** The user who acted (sender, creator, reactor, banner, follower). */
  readonly actorId?: string;
  /** `message` | `channel` | `post` | `comment` | `community` | `user` | `stream` | `poll` | `file` | `tag`. */
  readonly targetType?: string;
  readonly targetId?: string;
  /** When the change happened, from the primary entity's `updatedAt`/`createdAt` (ISO-8601). */
  readonly occurredAt?: string;
}

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

function first(value: unknown): Obj | undefined {
  return Array.isArray(value) ? obj(value[0]) : obj(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function pick(o: Obj | undefined, ...keys: string[]): string | undefined {
  if (!o) return undefined;
  for (const k of keys) {
    const v = str(o[k]);
    if (v !== undefined) return v;
  }
  return undefined;
}

function when(o: Obj | undefined): string | undefined {
  return pick(o, 'updatedAt', 'createdAt');
}

function clean(e: { actorId?: string; targetType?: string; targetId?: string; occurredAt?: string }): EventEntities {
  const out: { -readonly [K in keyof EventEntities]: EventEntities[K] } = {};
  if (e.actorId !== undefined) out.actorId = e.actorId;
  if (e.targetType !== undefined && e.targetId !== undefined) {
    out.targetType = e.targetType;
    out.targetId = e.targetId;
  }
  if (e.occurredAt !== undefined) out.occurredAt = e.occurredAt;
  return out;
}

/** Extracts actor, target and time for a routing name (`post.didFlag`) and its parsed envelope. */
export function extractEntities(eventType: string, envelope: Obj): EventEntities {
  const data = obj(envelope.data) ?? {};
  const family = eventType.split('.')[0] ?? '';
  const reactor = obj(data.reactor);

  switch (family) {
    case 'message': {
      const m = first(data.messages);
      return clean({
        actorId: pick(reactor, 'userId') ?? pick(m, 'userId', 'creatorId'),
        targetType: 'message',
        targetId: pick(m, 'messageId', '_id'),
        occurredAt: when(m),
      });
    }
    case 'channel':
    case 'moderation': {
      const c = first(data.channel) ?? first(data.channels);
      return clean({
        actorId: pick(data, 'actorId', 'adderId', 'removerId', 'userId'),
        targetType: 'channel',
        targetId: pick(c, 'channelId', '_id'),
        occurredAt: when(c),
      });
    }
    case 'post': {
      const p = first(data.posts);
      return clean({
        actorId: pick(reactor, 'userId') ?? pick(p, 'postedUserId'),
        targetType: 'post',
        targetId: pick(p, 'postId', '_id'),
        occurredAt: when(p),
      });
    }
    case 'comment': {
      const c = first(data.comments);
      return clean({
        actorId: pick(reactor, 'userId') ?? pick(c, 'userId'),
        targetType: 'comment',
        targetId: pick(c, 'commentId', '_id'),
        occurredAt: when(c),
      });
    }
    case 'community':
    case 'communityJoinRequest':
    case 'communityMemberInvitation': {
      const c = first(data.communities);
      return clean({
        actorId: pick(first(data.communityUsers), 'userId') ?? pick(c, 'userId'),
        targetType: 'community',
        targetId: pick(c, 'communityId', '_id'),
        occurredAt: when(c),
      });
    }
    case 'follow':
      return clean({ actorId: pick(data, 'from'), targetType: 'user', targetId: pick(data, 'to'), occurredAt: when(data) });
    case 'user': {
      if (str(data.from) !== undefined) {
        return clean({ actorId: pick(data, 'from'), targetType: 'user', targetId: pick(data, 'to'), occurredAt: when(data) });
      }
      const u = first(data.users);
      return clean({ actorId: pick(u, 'userId'), targetType: 'user', targetId: pick(u, 'userId'), occurredAt: when(u) });
    }
    case 'video-streaming': {
      const v = first(data.videoStreamings);
      return clean({ actorId: pick(v, 'userId'), targetType: 'stream', targetId: pick(v, 'streamId'), occurredAt: when(v) });
    }
    case 'poll': {
      const p = first(data.polls);
      return clean({ actorId: pick(p, 'userId'), targetType: 'poll', targetId: pick(p, 'pollId'), occurredAt: when(p) });
    }
    case 'file':
      return clean({ targetType: 'file', targetId: pick(data, 'fileId'), occurredAt: when(data) });
    case 'tag':
      return clean({ targetType: 'tag', targetId: pick(data, 'tagId', '_id'), occurredAt: when(data) });
    case 'push-notification':
      return pushNotificationEntities(envelope, data);
    default:
      return {};
  }
}

function pushNotificationEntities(envelope: Obj, data: Obj): EventEntities {
  const targets: Array<[string, string, string]> = [
    ['messages', 'message', 'messageId'],
    ['comments', 'comment', 'commentId'],
    ['posts', 'post', 'postId'],
    ['channels', 'channel', 'channelId'],
    ['videoStreamings', 'stream', 'streamId'],
  ];
  for (const [key, targetType, idKey] of targets) {
    const id = pick(first(data[key]), idKey);
    if (id !== undefined) return clean({ actorId: pick(envelope, 'senderId'), targetType, targetId: id, occurredAt: pick(envelope, 'sentTime') });
  }
  return clean({ actorId: pick(envelope, 'senderId'), occurredAt: pick(envelope, 'sentTime') });
}
