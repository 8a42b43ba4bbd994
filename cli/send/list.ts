/** `send --list`: every event name `send` knows, shipped or generated, by family. */
import { CliError } from '../errors.js';
import { listSamples, sendableNames, type SendableName } from '../fixtures.js';

/** `send --list [filter]`: every name `send` knows, by family, or as JSON. */
export function printList(filter: string | undefined, json: boolean): void {
  const all = sendableNames();
  const wanted = filter?.toLowerCase();
  // A family's name shows that family; any other filter, the names containing it.
  const isFamily = all.some((n) => n.family.toLowerCase() === wanted);
  const names =
    wanted === undefined
      ? all
      : all.filter((n) =>
          isFamily ? n.family.toLowerCase() === wanted : n.name.toLowerCase().includes(wanted) || n.eventType.toLowerCase().includes(wanted),
        );
  if (names.length === 0) throw new CliError(`no event name matches '${filter ?? ''}' (send --list shows all ${all.length})`);
  if (json) {
    process.stdout.write(`${JSON.stringify(names.map((n) => ({ ...n, origin: n.shipped === undefined ? 'generated' : 'shipped' })))}\n`);
    return;
  }
  const width = Math.max(...names.map((n) => n.name.length)) + 2;
  const lines: string[] = [];
  let family: string | undefined;
  for (const n of names) {
    if (n.family !== family) {
      family = n.family;
      lines.push(`${lines.length > 0 ? '\n' : ''}${family}`);
    }
    lines.push(`  ${n.name.padEnd(width)}${listNote(n)}`);
  }
  const shipped = new Set(all.flatMap((n) => (n.shipped === undefined ? [] : [n.shipped])));
  const others = listSamples().filter((s) => !shipped.has(s));
  lines.push(
    '',
    `${names.length} of ${all.length} names; shipped: the file in fixtures/samples, generated: built from the catalog (--seed varies it).`,
    'Deprecated names reach only handlers that name them exactly. A name without its v3. prefix works too (post.didApprove).',
    ...(others.length > 0 && wanted === undefined ? [`Other shipped samples, by file name: ${others.join(', ')}.`] : []),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

function listNote(n: SendableName): string {
  const origin = n.shipped === undefined ? 'generated' : n.shipped === n.name ? 'shipped' : `shipped (${n.shipped})`;
  return `${origin}${n.deprecated ? '  deprecated' : ''}`;
}
