/**
 * `npm run soak -- [--events 20000] [--duration <s>] [--faults 1] [--seed <n>] …`: a long
 * fault-injection run of local mode; see `local/faults/soak.ts` (`--help` lists the options).
 */
import { soakMain } from '../local/faults/soak.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await soakMain(process.argv.slice(2));
