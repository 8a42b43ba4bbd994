/**
 * The sample payloads in `fixtures/samples/`, read as raw text: tests sign and hash these exact
 * bytes, never a re-serialised object.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'samples');

/** Sample names (file names without `.json`), sorted. */
export const SAMPLE_NAMES: readonly string[] = readdirSync(SAMPLES_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

/** The raw text of a sample, exactly as stored. */
export function sampleBody(name: string): string {
  if (!SAMPLE_NAMES.includes(name)) throw new Error(`no sample '${name}' in ${SAMPLES_DIR}; have: ${SAMPLE_NAMES.join(', ')}`);
  return readFileSync(join(SAMPLES_DIR, `${name}.json`), 'utf8');
}
