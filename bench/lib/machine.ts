/**
 * What the figures were measured on, printed at the top of every run: the figures are ratios
 * against floors measured in the same run, but the machine (and how busy it was) still matters.
 */
import { cpus, loadavg, totalmem } from 'node:os';

/** One line: cores and model, memory, Node version, platform, date, load average. */
export function describeMachine(now = new Date()): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${cores.length} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node.js ${process.version}, ${process.platform}/${process.arch}, ${now.toISOString()}, load average ${load}`;
}

/** The 1-minute load average, for noting how busy the machine was around a benchmark. */
export function loadAverage(): string {
  return loadavg()[0]?.toFixed(2) ?? '?';
}
