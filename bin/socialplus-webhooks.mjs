#!/usr/bin/env node
// CLI entry point. Runs the TypeScript sources directly through tsx, so a clone works after `npm ci`.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every start that it will need Node.js 22 from 2027; the CLI runs on 20.19+
// today and the README says so, so keep the output clean.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Output piped into a reader that stops early (`--help | head`): end quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
