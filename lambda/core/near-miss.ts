/**
 * "Did you mean …?" for names typed by hand (configuration keys, event names): the edit distance
 * between two strings and the nearest of a list of candidates. Pure, no dependency.
 */

/** Levenshtein distance: the fewest single-character insertions, deletions and substitutions turning `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/**
 * The candidate `input` most likely meant, ignoring case: the one at the smallest edit distance, if
 * that is at most `maxDistance` (by default 2, or a fifth of the input's length when that is more);
 * the first such candidate on a tie. Undefined when none is that close, or when `input` is itself a
 * candidate.
 */
export function nearestMatch(
  input: string,
  candidates: Iterable<string>,
  maxDistance = Math.max(2, Math.floor(input.length / 5)),
): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === input) return undefined;
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= maxDistance ? best : undefined;
}
