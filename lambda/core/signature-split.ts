/**
 * How many deliveries the receiver accepted per signature form and refused for their signature,
 * for `status` and `doctor`: one shape whether the counts come from local mode's counters or from
 * CloudWatch. Kept out of `receive.ts`, which the receiver's cold start loads.
 */
import { SIGNATURE_FORM_METRICS } from './receive.js';
import { SIGNATURE_FORMS, type SignatureForm } from './signature.js';
import type { MetricName } from './telemetry.js';

/** Deliveries accepted per signature form, and those refused for their signature. */
export type SignatureSplit = Record<SignatureForm, number> & { readonly refused: number };

/** The split, from a count per form and for `refused` (the receiver's `SignatureInvalid`). */
export function signatureSplitFrom(count: (key: SignatureForm | 'refused') => number): SignatureSplit {
  const split = Object.fromEntries(SIGNATURE_FORMS.map((form) => [form, count(form)])) as Record<SignatureForm, number>;
  return { ...split, refused: count('refused') };
}

/** The split from counted metrics (local mode's counters). */
export function signatureSplit(counts: Readonly<Partial<Record<MetricName, number>>>): SignatureSplit {
  return signatureSplitFrom((key) => counts[key === 'refused' ? 'SignatureInvalid' : SIGNATURE_FORM_METRICS[key]] ?? 0);
}

/** Deliveries accepted in any form. */
export function acceptedIn(split: SignatureSplit): number {
  return SIGNATURE_FORMS.reduce((sum, form) => sum + split[form], 0);
}

/** `120 base64, 3 hex; 2 refused …`: the forms seen, in words (forms never seen are left out). */
export function describeSignatureSplit(split: SignatureSplit): string {
  const seen = SIGNATURE_FORMS.filter((f) => split[f] > 0).map((f) => `${split[f]} ${f}`);
  const accepted = seen.length === 0 ? 'none accepted' : seen.join(', ');
  return `${accepted}; ${split.refused} refused for their signature (401)`;
}
