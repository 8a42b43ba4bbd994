/**
 * `archiveRetentionDays`: absent, the archive keeps every event for good; set, S3 expires an
 * event's objects (archive lines, Firehose's error output, copies of large bodies) at that age, and
 * nothing else: erasure receipts and everything outside those prefixes stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../lib/config.js';
import { synthesize, type SynthesizedApp } from './helpers.js';

type Rule = { Id: string; Prefix?: string; ExpirationInDays?: number; Status: string; NoncurrentVersionExpiration?: { NoncurrentDays: number } };

function archiveRules(app: SynthesizedApp): Rule[] {
  const buckets = app.template.findResources('AWS::S3::Bucket');
  const archive = Object.entries(buckets).find(([id]) => id.startsWith('ArchiveBucket'));
  if (archive === undefined) throw new Error('no archive bucket');
  return (archive[1] as { Properties: { LifecycleConfiguration: { Rules: Rule[] } } }).Properties.LifecycleConfiguration.Rules;
}

describe('archiveRetentionDays in the configuration', () => {
  it('is absent by default, and "keep" or empty keeps the archive too', () => {
    expect(buildConfig({}).archiveRetentionDays).toBeUndefined();
    expect(buildConfig({ archiveRetentionDays: 'keep' }).archiveRetentionDays).toBeUndefined();
    expect(buildConfig({ archiveRetentionDays: '' }).archiveRetentionDays).toBeUndefined();
    expect(buildConfig({ archiveRetentionDays: '400' }).archiveRetentionDays).toBe(400);
    // As long as the table keeps its items, and no shorter.
    expect(buildConfig({ archiveRetentionDays: 90 }).archiveRetentionDays).toBe(90);
  });
});

describe('the archive bucket’s lifecycle', () => {
  let kept: SynthesizedApp;
  let bounded: SynthesizedApp;
  beforeAll(() => {
    kept = synthesize();
    bounded = synthesize({ archiveRetentionDays: 400 });
  }, 60_000);
  afterAll(() => {
    kept.cleanup();
    bounded.cleanup();
  });

  it('expires nothing of an event when the key is absent', () => {
    const rules = archiveRules(kept);
    expect(rules.filter((r) => ['events/', 'errors/', 'inbox/large/'].includes(r.Prefix ?? ''))).toEqual([]);
    expect(rules.filter((r) => r.Prefix === undefined).map((r) => r.ExpirationInDays)).toEqual([undefined]);
  });

  it('expires archive lines, Firehose errors and large-body copies at the age given, their old versions after 30 days more', () => {
    const rules = archiveRules(bounded);
    const expiring = rules.filter((r) => r.ExpirationInDays === 400);
    expect(expiring.map((r) => [r.Prefix, r.Status]).sort()).toEqual([
      ['errors/', 'Enabled'],
      ['events/', 'Enabled'],
      ['inbox/large/', 'Enabled'],
    ]);
    // The bucket-wide rule removes a version 30 days after it stops being current.
    expect(rules.find((r) => r.Prefix === undefined)?.NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 30 });
    // Nothing else changes: the same other rules as without the key.
    const others = (app: SynthesizedApp) => archiveRules(app).filter((r) => r.ExpirationInDays !== 400);
    expect(others(bounded)).toEqual(others(kept));
    expect(rules.some((r) => (r.Prefix ?? '').startsWith('erasures/'))).toBe(false);
  });
});
