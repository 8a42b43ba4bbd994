import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SIGNATURE_FORMS, parseSignatureForms, sign, signAs, SIGNATURE_FORMS, verifySignature } from '../../lambda/core/signature.js';
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
      expect(verifySignature(body, signature, [key])).toEqual({ ok: true, secretIndex: 0, form: 'base64' });
    });

    it('verifies the same MAC written in hex', () => {
      const hex = Buffer.from(signature, 'base64').toString('hex');
      expect(verifySignature(body, hex, [key])).toEqual({ ok: true, secretIndex: 0, form: 'hex' });
      expect(verifySignature(body, hex.toUpperCase(), [key])).toEqual({ ok: true, secretIndex: 0, form: 'hex' });
    });

    it('fails with another secret', () => {
      expect(verifySignature(body, signature, [`${key}x`])).toMatchObject({ ok: false, reason: 'no-secret-matched' });
    });

    it('fails when one byte of the body changes', () => {
      const tampered = Buffer.from(body);
      tampered[tampered.length - 2] = (tampered[tampered.length - 2] as number) ^ 0x01;
      expect(verifySignature(tampered, signature, [key])).toMatchObject({ ok: false, reason: 'no-secret-matched' });
    });
  });
});

describe('the body is not normalised (by default)', () => {
  const key = 'whsec-test-1';

  it.each(SAMPLE_NAMES)('re-serialised JSON of sample %s does not verify', (name) => {
    const raw = utf8(sampleBody(name));
    const signature = reference(raw, key);
    expect(verifySignature(raw, signature, [key]).ok).toBe(true);
    const reserialised = utf8(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    expect(reserialised.equals(raw)).toBe(false);
    expect(verifySignature(reserialised, signature, [key])).toMatchObject({ ok: false, reason: 'no-secret-matched' });
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
    // Refused by default, and named: the json form would have matched (the byte variant a json form lets in).
    expect(verifySignature(escaped, reference(sent, key), [key])).toEqual({
      ok: false,
      reason: 'form-not-accepted',
      diagnosis: { encoding: 'base64', formsTried: ['base64', 'json-base64'], bodyIsJson: true, matchedForm: 'json-base64' },
    });
    expect(verifySignature(escaped, reference(sent, key), [key], { forms: SIGNATURE_FORMS })).toEqual({
      ok: true,
      secretIndex: 0,
      form: 'json-base64',
    });
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
    ['hex of 31 bytes', createHmac('sha256', key).update(body).digest('hex').slice(0, 62), 'not-base64-or-hex'],
    ['hex with a 0x prefix', `0x${createHmac('sha256', key).update(body).digest('hex')}`, 'not-base64-or-hex'],
    [
      'hex of 48 bytes (valid base64 of the wrong length too)',
      createHmac('sha384', key).update(body).digest('hex').slice(0, 64) + 'ab'.repeat(16),
      'wrong-length',
    ],
    ['base64url alphabet', 'DXVZmihjjL8mXmW-D8-UZ5L26rlRBvMIBo3j39K_aBU=', 'not-base64-or-hex'],
    ['characters outside base64', 'not a signature!', 'not-base64-or-hex'],
    ['unpadded base64', good.replace(/=+$/, ''), 'not-base64-or-hex'],
    ['padding in the middle', `${good.slice(0, 20)}=${good.slice(21)}`, 'not-base64-or-hex'],
    ['base64 of 16 bytes', Buffer.alloc(16, 7).toString('base64'), 'wrong-length'],
    ['base64 of 33 bytes', Buffer.alloc(33, 7).toString('base64'), 'wrong-length'],
    ['sha256= prefix (GitHub style)', `sha256=${good}`, 'not-base64-or-hex'],
  ] as const)('%s → %s', (_label, signature, reason) => {
    expect(verifySignature(body, signature, [key])).toMatchObject({ ok: false, reason, diagnosis: { formsTried: [] } });
  });

  it('no secrets to check → no-secrets', () => {
    expect(verifySignature(body, good, [])).toMatchObject({ ok: false, reason: 'no-secrets' });
  });

  it('surrounding whitespace in the header is tolerated', () => {
    expect(verifySignature(body, ` ${good}\t`, [key])).toEqual({ ok: true, secretIndex: 0, form: 'base64' });
  });

  it('a signature of the right length from another key → no-secret-matched, saying what was tried', () => {
    expect(verifySignature(body, reference(body, 'other'), [key])).toEqual({
      ok: false,
      reason: 'no-secret-matched',
      // The body is its own serialization: the json form would sign the same bytes, so it is not tried apart.
      diagnosis: { encoding: 'base64', formsTried: ['base64'], bodyIsJson: true },
    });
    const spaced = utf8('{ "event": "message.didCreate" }');
    const hexFromOther = createHmac('sha256', 'other').update(spaced).digest('hex');
    expect(verifySignature(spaced, hexFromOther, [key])).toEqual({
      ok: false,
      reason: 'no-secret-matched',
      diagnosis: { encoding: 'hex', formsTried: ['hex', 'json-hex'], bodyIsJson: true },
    });
    expect(verifySignature(utf8('not json'), reference(utf8('not json'), 'other'), [key])).toMatchObject({
      diagnosis: { formsTried: ['base64'], bodyIsJson: false },
    });
  });
});

describe('signature forms', () => {
  const body = utf8('{"event": "message.didCreate", "data": {"text": "caf\\u00e9"}}');
  const key = 'whsec-test-1';

  it('accepts the raw MAC in base64 and hex by default, the json forms only when configured', () => {
    expect(DEFAULT_SIGNATURE_FORMS).toEqual(['base64', 'hex']);
    expect(verifySignature(body, signAs(body, key, 'base64'), [key])).toMatchObject({ ok: true, form: 'base64' });
    expect(verifySignature(body, signAs(body, key, 'hex'), [key])).toMatchObject({ ok: true, form: 'hex' });
    for (const form of ['json-base64', 'json-hex'] as const) {
      expect(verifySignature(body, signAs(body, key, form), [key])).toMatchObject({
        ok: false,
        reason: 'form-not-accepted',
        diagnosis: { matchedForm: form },
      });
      expect(verifySignature(body, signAs(body, key, form), [key], { forms: [form] })).toEqual({ ok: true, secretIndex: 0, form });
    }
  });

  it('refuses an accepted-looking MAC in a form the configuration left out, naming it', () => {
    expect(verifySignature(body, signAs(body, key, 'hex'), [key], { forms: ['base64'] })).toEqual({
      ok: false,
      reason: 'form-not-accepted',
      diagnosis: { encoding: 'hex', formsTried: ['hex'], bodyIsJson: true, matchedForm: 'hex' },
    });
  });

  it('parses a configured list, and names what is wrong with a bad one', () => {
    expect(parseSignatureForms('base64, json-hex,base64')).toEqual(['base64', 'json-hex']);
    expect(() => parseSignatureForms('base64,sha1')).toThrow(
      "'base64,sha1' is not a list of signature forms: give one or more of base64, hex, json-base64, json-hex",
    );
    expect(() => parseSignatureForms(' , ')).toThrow(/not a list of signature forms/);
  });
});

describe('verifySignature: a list of acceptable secrets (rotation)', () => {
  const body = utf8(sampleBody('message.didCreate'));

  it.each([
    ['signed with the current secret', 'new-secret', 0],
    ['signed with the previous secret (in flight during a rotation)', 'old-secret', 1],
  ] as const)('%s verifies, naming which secret matched', (_label, signer, index) => {
    expect(verifySignature(body, reference(body, signer), ['new-secret', 'old-secret'])).toEqual({ ok: true, secretIndex: index, form: 'base64' });
  });

  it('a secret that is in neither slot is rejected', () => {
    expect(verifySignature(body, reference(body, 'older-secret'), ['new-secret', 'old-secret'])).toMatchObject({
      ok: false,
      reason: 'no-secret-matched',
    });
  });

  it('the same secret twice reports the first slot', () => {
    expect(verifySignature(body, reference(body, 'same'), ['same', 'same'])).toEqual({ ok: true, secretIndex: 0, form: 'base64' });
  });
});

describe('properties', () => {
  const secret = fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' });

  it('verify(sign(x)) holds for arbitrary bytes and secrets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), secret, (bytes, key) => {
        const sig = sign(bytes, key);
        expect(sig).toBe(reference(bytes, key));
        expect(verifySignature(bytes, sig, [key])).toEqual({ ok: true, secretIndex: 0, form: 'base64' });
      }),
    );
  });

  it('a different secret never verifies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), secret, secret, (bytes, a, b) => {
        fc.pre(a !== b);
        expect(verifySignature(bytes, sign(bytes, a), [b]).ok).toBe(false);
      }),
    );
  });

  it('the signing secret verifies at any position among others, reporting that position', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.uniqueArray(secret, { minLength: 1, maxLength: 5 }), fc.nat(), (bytes, keys, pick) => {
        const i = pick % keys.length;
        expect(verifySignature(bytes, sign(bytes, keys[i] as string), keys)).toEqual({ ok: true, secretIndex: i, form: 'base64' });
      }),
    );
  });

  it("a signature over the body's base64 text (as API Gateway may hand it over) never verifies the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), secret, (bytes, key) => {
        // The base64 text is always longer than the bytes, so it is never the same message.
        const encoded = Buffer.from(bytes).toString('base64');
        expect(verifySignature(bytes, sign(encoded, key), [key]).ok).toBe(false);
      }),
    );
  });

  it('every form verifies when accepted and names itself; the exact bytes win when both match', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), secret, fc.constantFrom(...SIGNATURE_FORMS), (value, pretty, key, form) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        const bytes = utf8(text);
        const again = JSON.stringify(JSON.parse(text));
        const raw = form.endsWith('hex') ? 'hex' : 'base64';
        // A json form over a body that already is its own serialization is the raw form.
        const expected = form.startsWith('json-') && again !== text ? form : raw;
        expect(verifySignature(bytes, signAs(bytes, key, form), [key], { forms: SIGNATURE_FORMS })).toEqual({
          ok: true,
          secretIndex: 0,
          form: expected,
        });
        // By default only the raw forms are accepted; a json-only match is refused and named.
        const byDefault = verifySignature(bytes, signAs(bytes, key, form), [key]);
        if (expected.startsWith('json-'))
          expect(byDefault).toMatchObject({ ok: false, reason: 'form-not-accepted', diagnosis: { matchedForm: expected } });
        else expect(byDefault).toEqual({ ok: true, secretIndex: 0, form: expected });
      }),
    );
  });

  it('a different secret never verifies, in any form', () => {
    fc.assert(
      fc.property(fc.jsonValue(), secret, secret, fc.constantFrom(...SIGNATURE_FORMS), (value, a, b, form) => {
        fc.pre(a !== b);
        const bytes = utf8(JSON.stringify(value, null, 1));
        expect(verifySignature(bytes, signAs(bytes, a, form), [b], { forms: SIGNATURE_FORMS })).toMatchObject({
          ok: false,
          reason: 'no-secret-matched',
        });
      }),
    );
  });

  it('flipping any bit of the body fails verification', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 1024 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (bytes, at, bit) => {
        const sig = sign(bytes, 'k');
        const tampered = Uint8Array.from(bytes);
        const i = at % tampered.length;
        tampered[i] = (tampered[i] as number) ^ (1 << bit);
        expect(verifySignature(tampered, sig, ['k']).ok).toBe(false);
      }),
    );
  });
});
