/**
 * The doctor's check runner: a check is an id, a title and a function of a context that answers
 * pass, warn, fail or skip with a detail and, for a warning or a failure, the command that fixes
 * it. Checks run one after the other, in order; a check that needs another one (AWS calls need
 * credentials, the stack's checks need the stack) is listed as skipped, with the reason, when that
 * one did not pass or warn. A check that throws is reported as failed, never crashes the run.
 */

/** What a check concluded. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** A check's answer. `fix` is due on `warn` and `fail`: the command (or step) that fixes it. */
export interface Outcome {
  readonly status: CheckStatus;
  /** One line: a newline in it (from an AWS answer, say) is shown escaped, like any control character. */
  readonly detail: string;
  /** Lines under the detail (the configuration's problems, one each); the report joins them to it with newlines. */
  readonly more?: readonly string[];
  readonly fix?: string;
  /**
   * What a check that needs this one says when skipped because of it; by default this one's
   * detail when it skipped, `skipped: <title> failed` when it failed. Not part of the report.
   */
  readonly dependents?: string;
}

/** One line of the report (its detail may carry the outcome's `more` lines, after newlines). */
export interface CheckResult extends Outcome {
  readonly id: string;
  readonly title: string;
}

/** Results counted by status. */
export type CheckSummary = Readonly<Record<CheckStatus, number>>;

/** One check in the report, its text cleaned: the `--json` shape. */
export interface ReportedCheck {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** The detail, then any further lines, joined with newlines. */
  readonly detail: string;
  readonly fix?: string;
}

/** The whole report: what `--json` prints. */
export interface DoctorReport {
  readonly checks: readonly ReportedCheck[];
  readonly summary: CheckSummary;
}

/** One check, over a context `C` of injected clients and facts gathered by earlier checks. */
export interface Check<C> {
  readonly id: string;
  readonly title: string;
  /** Ids of earlier checks that must have passed (or warned) for this one to run. */
  readonly needs?: readonly string[];
  run(ctx: C): Outcome | Promise<Outcome>;
}

/**
 * A check, or a function that lists checks when their turn comes: checks whose number depends on
 * what an earlier one found (one per webhook source of the deployed stack).
 */
export type CheckEntry<C> = Check<C> | ((ctx: C) => ReadonlyArray<Check<C>>);

/** Outcomes: a warning and a failure always say how to fix them. */
export const pass = (detail: string): Outcome => ({ status: 'pass', detail });
export const skip = (detail: string): Outcome => ({ status: 'skip', detail });
export const warn = (detail: string, fix: string): Outcome => ({ status: 'warn', detail, fix });
export const fail = (detail: string, fix: string): Outcome => ({ status: 'fail', detail, fix });

/** Runs the entries in order; `earlier` are results of a previous run whose ids `needs` may name. */
export async function runChecks<C>(entries: ReadonlyArray<CheckEntry<C>>, ctx: C, earlier: readonly CheckResult[] = []): Promise<CheckResult[]> {
  const byId = new Map(earlier.map((r) => [r.id, r]));
  const results: CheckResult[] = [];
  for (const entry of entries) {
    const checks = typeof entry === 'function' ? entry(ctx) : [entry];
    for (const check of checks) {
      const outcome = unmetNeed(check, byId) ?? (await runOne(check, ctx));
      const result: CheckResult = { id: check.id, title: check.title, ...outcome };
      results.push(result);
      byId.set(check.id, result);
    }
  }
  return results;
}

/** A skip naming the first need that did not pass or warn, or undefined when all did. */
function unmetNeed<C>(check: Check<C>, byId: ReadonlyMap<string, CheckResult>): Outcome | undefined {
  for (const id of check.needs ?? []) {
    const need = byId.get(id);
    if (need === undefined) return skip(`needs the check '${id}', which did not run`);
    if (need.status === 'fail') return skip(need.dependents ?? `skipped: ${need.title} failed`);
    // A skipped need passes its own reason on ("not deployed yet: npx cdk deploy").
    if (need.status === 'skip') return skip(need.dependents ?? need.detail);
  }
  return undefined;
}

async function runOne<C>(check: Check<C>, ctx: C): Promise<Outcome> {
  try {
    return await check.run(ctx);
  } catch (err) {
    const e = err as { name?: string; message?: string };
    return fail(
      `the check itself failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`,
      'run doctor again; if it fails the same way, report it with this line',
    );
  }
}

/** Counts of each status. */
export function summarize(results: ReadonlyArray<{ readonly status: CheckStatus }>): CheckSummary {
  const summary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) summary[r.status] += 1;
  return summary;
}

/** The report of a run: its results, each text cleaned of control characters, and their counts. */
export function report(results: readonly CheckResult[]): DoctorReport {
  const checks = results.map((r): ReportedCheck => ({
    id: r.id,
    title: clean(r.title),
    status: r.status,
    detail: [r.detail, ...(r.more ?? [])].map(clean).join('\n'),
    ...(r.fix !== undefined ? { fix: clean(r.fix) } : {}),
  }));
  return { checks, summary: summarize(checks) };
}

/** 1 when any check failed, else 0. */
export function exitCodeOf(r: DoctorReport): number {
  return r.summary.fail > 0 ? 1 : 0;
}

// C0 and C1 control characters (newlines included), and the bidirectional overrides and isolates
// that can make a terminal line read differently from what it holds.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from an AWS answer (or any other outside source) made safe for one terminal line: every
 * control character, escape sequences included, is shown as `\uXXXX` (`\n`, `\r`, `\t` as such)
 * instead of acting on the terminal.
 */
export function clean(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
