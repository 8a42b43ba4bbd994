/**
 * The fault-load run's checks of the handlers: each ran to success once per acknowledged event (a
 * second success only where an injected fault explains it), the poison events never reached the
 * handler that always fails for them, and every outcome is recorded on the event's item.
 */
import { PICKY, RECORDER, type HandlerRuns } from './handlers.js';
import type { InjectedFault } from './injector.js';

export interface HandlerFindings {
  /** Successful handler runs, counted by the handlers themselves. */
  readonly handlerRuns: number;
  /** Runs beyond one per event and handler. */
  readonly repeatedRuns: number;
  /** Acknowledged and stored events whose handlers all did what they can and are recorded so. */
  readonly handled: number;
  /** Findings, each `[what, examples]`; empty examples when it holds. */
  readonly violations: ReadonlyArray<readonly [string, readonly string[]]>;
}

export function checkHandlers(input: {
  readonly runs: HandlerRuns;
  readonly injected: readonly InjectedFault[];
  readonly acked: readonly string[];
  readonly items: ReadonlyMap<string, { handlers: Record<string, boolean> }>;
  readonly poison: ReadonlySet<string>;
  /** Why an event may have gone wrong, for the examples. */
  readonly why: (eventId: string) => string;
}): HandlerFindings {
  const { runs, acked, items, poison, why } = input;
  const explained = explainedRepeats(input.injected);
  let handlerRuns = 0;
  let repeatedRuns = 0;
  const unexplained: string[] = [];
  const neverRan: string[] = [];
  const notRecorded: string[] = [];
  const poisonRan: string[] = [];
  let handled = 0;
  for (const [handler, byEvent] of runs) {
    for (const [eventId, n] of byEvent) {
      handlerRuns += n;
      if (n <= 1) continue;
      repeatedRuns += n - 1;
      const reasons = explained.get(eventId);
      if (!reasons?.has('*') && !reasons?.has(handler)) unexplained.push(`${handler}×${n} ${eventId} (${why(eventId)})`);
    }
  }
  for (const id of acked) {
    const item = items.get(id);
    const isPoisoned = poison.has(id);
    let ok = true;
    for (const handler of [RECORDER, PICKY]) {
      const ran = runs.get(handler)?.get(id) ?? 0;
      const expected = !(handler === PICKY && isPoisoned);
      if (expected && ran === 0) {
        neverRan.push(`${handler} ${id}`);
        ok = false;
      }
      if (!expected && ran > 0) poisonRan.push(id);
      if (item && item.handlers[handler] !== expected && (expected || item.handlers[handler] === true)) {
        notRecorded.push(`${handler} ${id}`);
        ok = false;
      }
    }
    if (ok && item) handled++;
  }
  return {
    handlerRuns,
    repeatedRuns,
    handled,
    violations: [
      ['handler successes repeated for an event with no injected fault to explain it', unexplained],
      ['handlers never succeeded for acknowledged events', neverRan],
      ['handler outcomes recorded wrongly on event items', notRecorded],
      ['poison events reached a handler that must always fail for them', poisonRan],
    ],
  };
}

/** Event id → the handlers ('*' for all) an injected fault may make succeed twice for it. */
function explainedRepeats(injected: readonly InjectedFault[]): Map<string, Set<string>> {
  const explained = new Map<string, Set<string>>();
  const explain = (eventId: string, handler: string) => {
    const s = explained.get(eventId) ?? new Set<string>();
    s.add(handler);
    explained.set(eventId, s);
  };
  for (const f of injected) {
    if (f.point === 'queue' && (f.kind === 'fail-after' || f.kind === 'late')) explain(f.key, '*');
    else if (f.point === 'store' && f.kind === 'fail' && f.key.startsWith('done:')) explain(f.key.slice(5), '*');
    else if (f.point === 'handler' && f.kind === 'fail-after') {
      const [handler, eventId] = f.key.split(':') as [string, string];
      explain(eventId, handler);
    }
  }
  return explained;
}
