/**
 * The local inspector (docs/inspector.md) as local mode starts it: the ledger and the fan-out's
 * way into it (its notes, and its WARN and ERROR lines about an event) exist before the fan-out
 * starts; the pages are served once the queue and the admin token exist.
 */
import type { Logger } from '../../lambda/core/telemetry.js';
import { Ledger, type InspectorNote } from './ledger.js';
import { createInspector, type Inspector } from './server.js';
import { localInspectorSources, problemTap, type LocalInspectorDeps } from './sources.js';

export interface InspectorParts {
  /** Where the fan-out's notes go. */
  note(note: InspectorNote): void;
  /** The logger to give the fan-out: the same lines, and those about an event kept for its page. */
  readonly fanoutLogger: Logger;
  /** Serves the pages; `baseUrl` is the loopback URL the link names. */
  start(deps: Omit<LocalInspectorDeps, 'ledger' | 'logger'> & { readonly token: string; readonly port: number }): Inspector;
}

export function inspectorParts(logger: Logger): InspectorParts {
  const ledger = new Ledger();
  let inspector: Inspector | undefined;
  return {
    note(note) {
      const changed = ledger.apply(note);
      if (changed !== undefined) inspector?.changed(changed);
    },
    fanoutLogger: problemTap(logger, ledger),
    start({ token, port, ...deps }) {
      const sources = localInspectorSources({ ...deps, ledger, logger });
      // Rows read from the store at start reach open pages on their next load: they are older than any live row.
      inspector = createInspector({ token, port, sources, logger });
      return inspector;
    },
  };
}
