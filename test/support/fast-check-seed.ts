/**
 * Every property test runs from one fixed seed, so a failure in CI is the same failure on any
 * machine. fast-check prints the seed and the shrunk counterexample's path when a property fails;
 * `FC_SEED=<n> npm test` replays another seed (to explore, or to reproduce a report).
 */
import fc from 'fast-check';

export const DEFAULT_FC_SEED = 20_261_202;

export function fastCheckSeed(env: NodeJS.ProcessEnv): number {
  const raw = env.FC_SEED;
  if (raw === undefined || raw === '') return DEFAULT_FC_SEED;
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Math.abs(Number(raw)) > 2 ** 31 - 1) {
    throw new Error(`FC_SEED must be an integer from -2147483647 to 2147483647, got '${raw}'`);
  }
  return Number(raw);
}

fc.configureGlobal({ seed: fastCheckSeed(process.env) });
