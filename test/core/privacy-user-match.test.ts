import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS, FAMILY_SCHEMAS } from '../../lambda/core/catalog/events.js';
import { normaliseEventType } from '../../lambda/core/envelope.js';
import {
  ALL_PAYLOAD_USER_FIELDS,
  familyOf,
  parseFieldPath,
  payloadUserFields,
  USER_FIELDS,
  userAppearances,
} from '../../lambda/core/privacy/user-match.js';
import { archiveRecordOf } from '../support/archive-records.js';
import { jsonStrings } from '../support/json-strings.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';

const FAMILIES = Object.keys(FAMILY_SCHEMAS);

/** `a[k=v].b` → `a[].b`: the path as the schema has it, whatever the filter. */
const unfiltered = (path: string) => path.replace(/\[[^\]]*\]/g, '[]');

/** Each string leaf of a zod schema as a path in the table's syntax; `unknown` marks a free-form value (anything below it). */
function leaves(schema: z.ZodType, at = ''): Array<{ path: string; kind: 'string' | 'unknown' }> {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const join = (key: string) => (at === '' ? key : `${at}.${key}`);
  switch (def.type) {
    case 'optional':
    case 'nullable':
      return leaves(def.innerType as z.ZodType, at);
    case 'pipe':
      return leaves(def.out as z.ZodType, at);
    case 'object':
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, s]) => leaves(s, join(key)));
    case 'array':
      return leaves(def.element as z.ZodType, `${at}[]`);
    case 'string':
      return [{ path: at, kind: 'string' }];
    case 'unknown':
    case 'record':
      return [{ path: at, kind: 'unknown' }];
    default:
      return [];
  }
}

/** The schemas of a family: its family schema and the own schema of each catalogued name of it. */
function familySchemas(family: string): z.ZodType[] {
  const own = Object.entries(EVENT_SCHEMAS as unknown as Record<string, z.ZodType>)
    .filter(([name]) => familyOf(normaliseEventType(name)) === family)
    .map(([, s]) => s);
  return [...new Set([FAMILY_SCHEMAS[family] as z.ZodType, ...own])];
}

describe('USER_FIELDS against the catalog', () => {
  it('has exactly the families of the catalog', () => {
    expect(Object.keys(USER_FIELDS).sort()).toEqual([...FAMILIES].sort());
  });

  it('gives every catalogued name its family list, and unknown names every family’s fields', () => {
    for (const name of Object.keys(EVENT_SCHEMAS).map(normaliseEventType)) {
      expect(payloadUserFields(name), name).toBe(USER_FIELDS[familyOf(name)]);
    }
    const union = new Set(Object.values(USER_FIELDS).flatMap((fields) => fields.map((f) => f.path)));
    expect(ALL_PAYLOAD_USER_FIELDS.map((f) => f.path).sort()).toEqual([...union].sort());
    for (const name of ['unknown', 'message.didSomethingNew', 'push-notification.unknown', 'newfamily.didStart']) {
      expect(payloadUserFields(name), name).toBe(ALL_PAYLOAD_USER_FIELDS);
    }
  });

  it.each(FAMILIES)('%s: lists each path once, each in the path syntax, with a reason', (family) => {
    const fields = USER_FIELDS[family] ?? [];
    expect(new Set(fields.map((f) => f.path)).size).toBe(fields.length);
    for (const { path, reason } of fields) {
      expect(() => parseFieldPath(path), path).not.toThrow();
      expect(reason.trim(), path).not.toBe('');
    }
  });

  it.each(FAMILIES)('%s: every listed path is a string field of the family’s schemas (or lies in a free-form one)', (family) => {
    const all = familySchemas(family).flatMap((s) => leaves(s));
    const strings = new Set(all.filter((l) => l.kind === 'string').map((l) => l.path));
    const freeForm = all.filter((l) => l.kind === 'unknown').map((l) => l.path);
    for (const { path } of USER_FIELDS[family] ?? []) {
      const p = unfiltered(path);
      expect(strings.has(p) || freeForm.some((u) => p.startsWith(`${u}.`)), `${family}: ${path}`).toBe(true);
      // A filter names a string field of the items it filters.
      parseFieldPath(path).forEach((step, i) => {
        if (!step.where) return;
        const items = unfiltered(
          path
            .split('.')
            .slice(0, i + 1)
            .join('.'),
        );
        expect(strings.has(`${items}.${step.where.field}`), `${family}: filter of ${path}`).toBe(true);
      });
    }
  });

  it.each(FAMILIES)('%s: every field of the family’s schemas named for a user is listed', (family) => {
    const listed = new Set((USER_FIELDS[family] ?? []).map((f) => unfiltered(f.path)));
    expect(namedForAUser(family).filter((p) => !listed.has(p))).toEqual([]);
  });

  it('finds fields named for a user in the catalog (the check above is not vacuous)', () => {
    const named = FAMILIES.flatMap(namedForAUser);
    expect(named).toContain('data.users[].userId');
    expect(named).toContain('data.messages[].mentionees[].userIds[]');
  });
});

/** The string fields of a family's schemas whose name says they hold a user's id. */
function namedForAUser(family: string): string[] {
  const ID_OF_A_USER = new Set(['creatorId', 'actorId', 'adderId', 'removerId', 'senderId', 'from', 'to', 'targetIds']);
  return familySchemas(family)
    .flatMap((s) => leaves(s))
    .filter((l) => l.kind === 'string')
    .map((l) => l.path)
    .filter((p) => {
      const key = (p.split('.').pop() as string).replace(/\[\]$/, '');
      return /user/i.test(key) || ID_OF_A_USER.has(key);
    });
}

/**
 * Who appears where in each sample of fixtures/samples, read off the samples by hand (an oracle
 * independent of the code): id → the fields it is in. Every other string of a sample is no user.
 */
const SAMPLE_USERS: Record<string, Record<string, string[]>> = {
  'channel.didBan': { 'mod.alina': ['record.actorId', 'data.actorId'], 'spam.account.42': ['data.users[].userId', 'data.userIds[]'] },
  'channel.didCreate': { 'nok.s': ['data.users[].userId', 'data.userIds[]'], 'ben.w': ['data.users[].userId', 'data.userIds[]'] },
  'file.didDelete': {},
  'follow.didCreate': { 'ben.w': ['record.actorId', 'data.from'], 'nok.s': ['record[targetType=user].targetId', 'data.to'] },
  'message.didAddReaction': {
    'mika.tan': ['data.messages[].userId'],
    'ben.w': ['record.actorId', 'data.users[].userId', 'data.reactor.userId', 'data.reactor.userPublicIdId'],
    '64f0000000000000000000b2': ['data.reactor.userInternalId'],
  },
  'message.didCreate': {
    'mika.tan': ['record.actorId', 'data.messages[].userId', 'data.users[].userId'],
    '64f9c0de1a2b3c4d5e6f7081': ['data.users[]._id'],
  },
  'message.didFlag': {
    'spam.account.42': ['record.actorId', 'data.messages[].userId', 'data.users[].userId'],
    '6650fa00d00d00d00d00d042': ['data.users[]._id'],
  },
  'moderation.didBan': { 'spam.account.77': ['record.actorId', 'data.users[].userId', 'data.userId'] },
  'poll.didVote': { 'nok.s': ['record.actorId', 'data.polls[].userId', 'data.users[].userId'] },
  'push-notification.message.created': {
    'mika.tan': ['record.actorId', 'senderId', 'data.users[].userId', 'data.messages[].userId'],
    'ben.w': ['data.targetIds[]'],
    'nok.s': ['data.targetIds[]'],
  },
  'tag.created': {},
  'user.didBan.inferred': {
    'spam.account.42': ['record.actorId', 'record[targetType=user].targetId', 'data.users[].userId', 'data.users[].userPublicId'],
    '6650fa00d00d00d00d00d042': ['data.users[].userInternalId', 'data.users[]._id'],
  },
  'user.didBlock': { 'nok.s': ['record.actorId', 'data.from'], 'spam.account.42': ['record[targetType=user].targetId', 'data.to'] },
  'user.didFlag': {
    'spam.account.42': ['record.actorId', 'record[targetType=user].targetId', 'data.users[].userId', 'data.users[].userPublicId'],
    '6650fa00d00d00d00d00d042': ['data.users[].userInternalId', 'data.users[]._id'],
    'nok.s': ['data.users[].flags[].userId'],
  },
  'v3.comment.didCreate': { 'ben.w': ['record.actorId', 'data.comments[].userId', 'data.users[].userId'] },
  'v3.comment.didFlag': {
    'spam.account.42': ['record.actorId', 'data.comments[].userId', 'data.users[].userId'],
    'ben.w': ['data.flaggedUserId'],
  },
  'v3.community.didCreate': {
    'ops.bot': ['record.actorId', 'data.communities[].userId', 'data.communityUsers[].userId', 'data.users[].userId'],
  },
  'v3.post.didCreate': {
    'nok.s': ['record.actorId', 'data.posts[].postedUserId', 'data.users[].userId', 'data.users[].userPublicId', 'data.communityUsers[].userId'],
    '64f0000000000000000000a1': ['data.users[].userInternalId'],
  },
  'v3.post.didFlag': {
    'spam.account.42': ['record.actorId', 'data.posts[].postedUserId', 'data.users[].userId'],
    'nok.s': ['data.flaggedUserId'],
  },
  'v5.message.didCreate': {
    'raj.p': ['record.actorId', 'data.messages[].creatorId', 'data.users[].userId'],
    'ops.bot': ['data.messageFeeds[].creatorId'],
  },
  'video-streaming.didStart': { 'ops.bot': ['record.actorId', 'data.videoStreamings[].userId', 'data.users[].userId'] },
};

describe('userAppearances on the samples', () => {
  it('has an oracle for every sample', () => {
    expect(Object.keys(SAMPLE_USERS).sort()).toEqual([...SAMPLE_NAMES]);
  });

  it.each(SAMPLE_NAMES)('%s: each user is found in exactly the fields it is in; no other string of the sample is a user', (name) => {
    const body = sampleBody(name);
    const record = archiveRecordOf(body, '2025-07-02T10:00:00.000Z');
    const expected = SAMPLE_USERS[name] ?? {};
    const candidates = new Set([...jsonStrings(JSON.parse(body)), ...Object.keys(expected), 'nobody.here']);
    for (const id of candidates) {
      if (id === '') continue;
      expect(userAppearances(record, id).sort(), `${name}: ${id}`).toEqual([...(expected[id] ?? [])].sort());
    }
    // Exact equality: a prefix, a longer id or another case of a user is someone else.
    for (const id of Object.keys(expected)) {
      for (const other of [id.slice(0, -1), `${id}x`, ` ${id}`, id.toUpperCase()].filter((o) => o !== id && o !== '' && !(o in expected))) {
        expect(userAppearances(record, other), `${name}: ${other}`).toEqual([]);
      }
    }
  });
});
