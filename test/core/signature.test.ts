import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sign, verifySignature } from '../../lambda/core/signature.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';

/** An independent reference: base64(HMAC-SHA256(key as UTF-8, bytes)). */
function reference(bytes: Uint8Array, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(bytes).digest('base64');
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

// Expected values computed outside Node (Python's hmac module) over the same literal bytes.
const VECTORS = [
  {
    name: 'RFC 4231 test case 2',
    key: 'Jefe',
    body: utf8('what do ya want for nothing?'),
    bytes: 28,
    signature: 'W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=',
  },
  {
    name: 'Latin-1 letters as two-byte UTF-8',
    key: 'whsec-test-1',
    body: utf8('{"event":"message.didCreate","data":{"messages":[{"messageId":"m1","data":{"text":"héllo wörld"}}]}}'),
    bytes: 102,
    signature: 'DXVZmihjjL8mXmW+D8+UZ5L26rlRBvMIBo3j39K+aBU=',
  },
  {
    name: 'Thai, emoji with skin-tone modifier, CJK (3- and 4-byte UTF-8)',
    key: 'whsec-test-1',
    body: utf8('{"event":"message.didCreate","data":{"messages":[{"messageId":"m2","data":{"text":"สวัสดี 👋🏽 日本語"}}]}}'),
    bytes: 126,
    signature: 'gzfUO+TfeFyUylF2u1Vo1zGwLk08c/U9MOCYoluDvVI=',
  },
  {
    name: 'whitespace, newlines and unsorted keys kept as sent',
    key: 'whsec-test-1',
    body: utf8('{ "event" : "post.didCreate",\n  "data": {"b":1,"a":2} }\n'),
    bytes: 56,
    signature: 'szdh4pL7sKuSf+8bGLij+MB4Dmx0zKp1q3C8mM6BARU=',
  },
  {
    name: 'non-ASCII secret (Cyrillic and emoji)',
    key: 'ключ-🔑',
    body: utf8('{"event":"user.didUpdate"}'),
    bytes: 26,
    signature: 'rLVzbFYDzi28GuH0E6bct4vn7lJV6SutWPGP1V9hELg=',
  },
];

describe('sign and verifySignature: known vectors', () => {
  describe.each(VECTORS)('$name', ({ key, body, bytes, signature }) => {
    it('is over the exact UTF-8 bytes', () => {
      expect(body.length).toBe(bytes);
    });

    it('sign() gives the known value, for bytes and for the same text', () => {
      expect(sign(body, key)).toBe(signature);
      expect(sign(body.toString('utf8'), key)).toBe(signature);
      expect(reference(body, key)).toBe(signature);
    });

    it('verifies', () => {
      expect(verifySignature(body, signature, [key])).toEqual({ ok: true, secretIndex: 0 });
    });

    it('fails with another secret', () => {
      expect(verifySignature(body, signature, [`${key}x`])).toEqual({ ok: false, reason: 'no-secret-matched' });
    });

    it('fails when one byte of the body changes', () => {
      const tampered = Buffer.from(body);
      tampered[tampered.length - 2] = (tampered[tampered.length - 2] as number) ^ 0x01;
      expect(verifySignature(tampered, signature, [key])).toEqual({ ok: false, reason: 'no-secret-matched' });
    });
  });
});

describe('the body is not normalised', () => {
  const key = 'whsec-test-1';

  it.each(SAMPLE_NAMES)('re-serialised JSON of sample %s does not verify', (name) => {
    const raw = utf8(sampleBody(name));
    const signature = reference(raw, key);
    expect(verifySignature(raw, signature, [key]).ok).toBe(true);
    const reserialised = utf8(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    expect(reserialised.equals(raw)).toBe(false);
    expect(verifySignature(reserialised, signature, [key])).toEqual({ ok: false, reason: 'no-secret-matched' });
  });

  it('key order matters', () => {
    const sent = utf8('{"event":"post.didCreate","data":{"a":1,"b":2}}');
    const reordered = utf8('{"data":{"b":2,"a":1},"event":"post.didCreate"}');
    expect(verifySignature(reordered, reference(sent, key), [key]).ok).toBe(false);
  });

  it('a trailing newline matters', () => {
    const sent = utf8('{"event":"post.didCreate"}');
    expect(verifySignature(utf8('{"event":"post.didCreate"}\n'), reference(sent, key), [key]).ok).toBe(false);
  });

  it('unicode escapes are not the same bytes as the characters', () => {
    const sent = utf8('{"text":"👋"}');
    const escaped = utf8(JSON.stringify({ text: '👋' }).replace('👋', '\\ud83d\\udc4b'));
    expect(JSON.parse(escaped.toString('utf8'))).toEqual(JSON.parse(sent.toString('utf8')));
    expect(verifySignature(escaped, reference(sent, key), [key]).ok).toBe(false);
  });

  it('signing the text decoded as Latin-1 does not verify the UTF-8 bytes', () => {
    const sent = utf8('{"text":"héllo"}');
    const wrong = reference(Buffer.from(sent.toString('utf8'), 'latin1'), key);
    expect(verifySignature(sent, wrong, [key]).ok).toBe(false);
  });
});

describe('verifySignature: why a check failed', () => {
  const body = utf8('{"event":"message.didCreate"}');
  const key = 'whsec-test-1';
  const good = reference(body, key);

  it.each([
    ['undefined', undefined, 'missing'],
    ['empty', '', 'missing'],
    ['blank', '   ', 'missing'],
    ['hex instead of base64', createHmac('sha256', key).update(body).digest('hex'), 'wrong-length'],
    ['base64url alphabet', 'DXVZmihjjL8mXmW-D8-UZ5L26rlRBvMIBo3j39K_aBU=', 'not-base64'],
    ['characters outside base64', 'not a signature!', 'not-base64'],
    ['unpadded base64', good.replace(/=+$/, ''), 'not-base64'],
    ['padding in the middle', `${good.slice(0, 20)}=${good.slice(21)}`, 'not-base64'],
    ['base64 of 16 bytes', Buffer.alloc(16, 7).toString('base64'), 'wrong-length'],
    ['base64 of 33 bytes', Buffer.alloc(33, 7).toString('base64'), 'wrong-length'],
    ['sha256= prefix (GitHub style)', `sha256=${good}`, 'not-base64'],
  ] as const)('%s → %s', (_label, signature, reason) => {
    expect(verifySignature(body, signature, [key])).toEqual({ ok: false, reason });
  });

  it('no secrets to check → no-secrets', () => {
    expect(verifySignature(body, good, [])).toEqual({ ok: false, reason: 'no-secrets' });
  });

  it('surrounding whitespace in the header is tolerated', () => {
    expect(verifySignature(body, ` ${good}\t`, [key])).toEqual({ ok: true, secretIndex: 0 });
  });

  it('a signature of the right length from another key → no-secret-matched', () => {
    expect(verifySignature(body, reference(body, 'other'), [key])).toEqual({ ok: false, reason: 'no-secret-matched' });
  });
});

describe('verifySignature: a list of acceptable secrets (rotation)', () => {
  const body = utf8(sampleBody('message.didCreate'));

  it.each([
    ['signed with the current secret', 'new-secret', 0],
    ['signed with the previous secret (in flight during a rotation)', 'old-secret', 1],
  ] as const)('%s verifies, naming which secret matched', (_label, signer, index) => {
    expect(verifySignature(body, reference(body, signer), ['new-secret', 'old-secret'])).toEqual({ ok: true, secretIndex: index });
  });

  it('a secret that is in neither slot is rejected', () => {
    expect(verifySignature(body, reference(body, 'older-secret'), ['new-secret', 'old-secret'])).toEqual({ ok: false, reason: 'no-secret-matched' });
  });

  it('the same secret twice reports the first slot', () => {
    expect(verifySignature(body, reference(body, 'same'), ['same', 'same'])).toEqual({ ok: true, secretIndex: 0 });
  });
});

describe('properties', () => {
  const secret = fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' });

  it('verify(sign(x)) holds for arbitrary bytes and secrets', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), secret, (bytes, key) => {
      const sig = sign(bytes, key);
      expect(sig).toBe(reference(bytes, key));
      expect(verifySignature(bytes, sig, [key])).toEqual({ ok: true, secretIndex: 0 });
    }));
  });

  it('a different secret never verifies', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1024 }), secret, secret, (bytes, a, b) => {
      fc.pre(a !== b);
      expect(verifySignature(bytes, sign(bytes, a), [b]).ok).toBe(false);
    }));
  });

  it('the signing secret verifies at any position among others, reporting that position', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), fc.uniqueArray(secret, { minLength: 1, maxLength: 5 }), fc.nat(), (bytes, keys, pick) => {
      const i = pick % keys.length;
      expect(verifySignature(bytes, sign(bytes, keys[i] as string), keys)).toEqual({ ok: true, secretIndex: i });
    }));
  });

  it('a signature over the body\'s base64 text (as API Gateway may hand it over) never verifies the bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), secret, (bytes, key) => {
      // The base64 text is always longer than the bytes, so it is never the same message.
      const encoded = Buffer.from(bytes).toString('base64');
      expect(verifySignature(bytes, sign(encoded, key), [key]).ok).toBe(false);
    }));
  });

  it('flipping any bit of the body fails verification', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 1024 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (bytes, at, bit) => {
      const sig = sign(bytes, 'k');
      const tampered = Uint8Array.from(bytes);
      const i = at % tampered.length;
      tampered[i] = (tampered[i] as number) ^ (1 << bit);
      expect(verifySignature(tampered, sig, ['k']).ok).toBe(false);
    }));
  });
});
