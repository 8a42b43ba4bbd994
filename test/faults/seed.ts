/**
 * The seed of the fault-injected tests (`test/faults`, `test/e2e/crash-random.test.ts`): a fixed
 * one, so `npm test` draws the same faults, poison events and kill points on every run; FAULT_SEED
 * picks another (checked by `seedFromEnv`). Only `npm run soak` draws a fresh seed when none is set.
 */
import { FAULT_SEED_ENV, seedFromEnv } from '../../local/faults/injector.js';

/** The seed `npm test` uses when FAULT_SEED is not set. */
export const DEFAULT_TEST_FAULT_SEED = 20_250_702;

/** FAULT_SEED when set (an unsigned 32-bit integer, else a RangeError naming it), otherwise {@link DEFAULT_TEST_FAULT_SEED}. */
export function testFaultSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[FAULT_SEED_ENV];
  return raw === undefined || raw.trim() === '' ? DEFAULT_TEST_FAULT_SEED : seedFromEnv(env);
}

/** What a failure message says to replay the run: `FAULT_SEED=<seed> npx vitest run <file>`. */
export function replayHint(seed: number, file: string): string {
  return `seed=${seed} (replay: ${FAULT_SEED_ENV}=${seed} npx vitest run ${file})`;
}
