#!/usr/bin/env node
// CLI entry point. Runs the TypeScript sources directly through tsx, so a clone works after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
