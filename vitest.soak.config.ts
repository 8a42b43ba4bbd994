import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * Long or still-unstable probes kept out of `npm test`: `npm run test:soak`. The random-crash probe
 * lives here while a rare archive gap it finds (about 1 run in 5) is investigated; see the README.
 */
export default defineConfig({ ...base, test: { ...base.test, include: ['test/**/*.soak.ts'] } });
