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

/**
 * The entities of an event about one primary entity `e` (a message, post, user…): its id, the
 * first of `idKeys` it has, as the target, and its time.
 */
function about(targetType: string, e: Obj | undefined, idKeys: readonly string[], actorId: string | undefined): EventEntities {
  return clean({ actorId, targetType, targetId: pick(e, ...idKeys), occurredAt: when(e) });
}

/** Extracts actor, target and time for a routing name (`post.didFlag`) and its parsed envelope. */
export function extractEntities(eventType: string, envelope: Obj): EventEntities {
  const data = obj(envelope.data) ?? {};
  const family = eventType.split('.')[0] ?? '';
  const reactor = obj(data.reactor);

  switch (family) {
    case 'message': {
      const m = first(data.messages);
      return about('message', m, ['messageId', '_id'], pick(reactor, 'userId') ?? pick(m, 'userId', 'creatorId'));
    }
    case 'channel':
    case 'moderation': {
      const c = first(data.channel) ?? first(data.channels);
      return about('channel', c, ['channelId', '_id'], pick(data, 'actorId', 'adderId', 'removerId', 'userId'));
    }
    case 'post': {
      const p = first(data.posts);
      return about('post', p, ['postId', '_id'], pick(reactor, 'userId') ?? pick(p, 'postedUserId'));
    }
    case 'comment': {
      const c = first(data.comments);
      return about('comment', c, ['commentId', '_id'], pick(reactor, 'userId') ?? pick(c, 'userId'));
    }
    case 'community':
    case 'communityJoinRequest':
    case 'communityMemberInvitation': {
      const c = first(data.communities);
      return about('community', c, ['communityId', '_id'], pick(first(data.communityUsers), 'userId') ?? pick(c, 'userId'));
    }
    case 'follow':
      return about('user', data, ['to'], pick(data, 'from'));
    case 'user': {
      if (str(data.from) !== undefined) return about('user', data, ['to'], pick(data, 'from'));
      const u = first(data.users);
      return about('user', u, ['userId'], pick(u, 'userId'));
    }
    case 'video-streaming': {
      const v = first(data.videoStreamings);
      return about('stream', v, ['streamId'], pick(v, 'userId'));
    }
    case 'poll': {
      const p = first(data.polls);
      return about('poll', p, ['pollId'], pick(p, 'userId'));
    }
    case 'file':
      return about('file', data, ['fileId'], undefined);
    case 'tag':
      return about('tag', data, ['tagId', '_id'], undefined);
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
