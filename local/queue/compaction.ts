/**
 * Compaction of the local queue's journal: rewritten as one `send` line per live record (with its
 * receive count), at start-up and whenever it grows well past what is still live.
 */
import type { Logger } from '../../lambda/core/telemetry.js';
import type { AppendLog } from '../append-log.js';
import type { LiveEntries } from './entry.js';
import { sendLine } from './journal-codec.js';

export class JournalCompactor {
  private running = false;

  constructor(
    private readonly journal: AppendLog,
    private readonly live: LiveEntries,
    private readonly thresholdBytes: number,
    private readonly logger: Logger,
  ) {}

  /** Rewrites the journal as one `send` line per live record, with its receive count. */
  compact(): Promise<void> {
    return this.journal.rewrite(() => [...this.live.values()].map(sendLine).join(''));
  }

  /** Compacts in the background once the journal is past the threshold and mostly finished work. */
  maybeCompact(): void {
    if (this.running || this.journal.size < this.thresholdBytes) return;
    // A large backlog is left alone.
    if (this.journal.size < 4 * this.live.journalBytes) return;
    this.running = true;
    this.compact()
      .catch((err: Error) => this.logger.warn('local queue: journal compaction failed; will try again later', { error: err.message }))
      .finally(() => {
        this.running = false;
      });
  }
}
