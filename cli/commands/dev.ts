import type { Command } from 'commander';

export function registerDev(program: Command): void {
  program.command('dev').description('(not yet implemented)').action(() => {
    throw new Error('not implemented');
  });
}
