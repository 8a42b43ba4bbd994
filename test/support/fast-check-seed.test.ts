import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FC_SEED, fastCheckSeed } from './fast-check-seed.js';

describe('the fixed fast-check seed', () => {
  it('is the default unless FC_SEED names another, and is what fast-check runs with', () => {
    expect(fastCheckSeed({})).toBe(DEFAULT_FC_SEED);
    expect(fastCheckSeed({ FC_SEED: '' })).toBe(DEFAULT_FC_SEED);
    expect(fastCheckSeed({ FC_SEED: '42' })).toBe(42);
    expect(fastCheckSeed({ FC_SEED: '-7' })).toBe(-7);
    expect(fc.readConfigureGlobal().seed).toBe(fastCheckSeed(process.env));
  });

  it.each(['x', '1.5', '1e3', '99999999999'])('refuses FC_SEED=%s with a message naming it', (raw) => {
    expect(() => fastCheckSeed({ FC_SEED: raw })).toThrow(`FC_SEED must be an integer from -2147483647 to 2147483647, got '${raw}'`);
  });

  it('makes two runs of one property draw the same values', () => {
    const draws = () => fc.sample(fc.integer(), { numRuns: 5 });
    expect(draws()).toEqual(draws());
  });
});
