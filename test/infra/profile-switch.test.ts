/**
 * Switching `profile` on a deployed stack keeps the data (README, "Configuration profiles"): every
 * resource that holds data, or that data needs to be read, has the same logical id and type in both
 * profiles, none of its properties that CloudFormation replaces the resource for differs, and
 * neither do its deletion and replacement policies. A resource only one profile has (the hardened
 * profile's data key) survives the switch back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesize, type SynthesizedApp } from './helpers.js';

/**
 * Per resource type, the properties whose change makes CloudFormation replace the resource ("Update
 * requires: Replacement" in the CloudFormation resource reference). A replaced table, bucket, queue,
 * secret, log group or key is a new, empty one.
 */
const REPLACING: Record<string, readonly string[]> = {
  'AWS::DynamoDB::GlobalTable': ['TableName', 'KeySchema', 'LocalSecondaryIndexes'],
  'AWS::S3::Bucket': ['BucketName', 'ObjectLockEnabled'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::SQS::Queue': ['QueueName', 'FifoQueue'],
  'AWS::KinesisFirehose::DeliveryStream': ['DeliveryStreamName', 'DeliveryStreamType', 'KinesisStreamSourceConfiguration', 'MSKSourceConfiguration'],
  'AWS::Glue::Database': ['CatalogId'],
  'AWS::Glue::Table': ['CatalogId', 'DatabaseName'],
  'AWS::Athena::WorkGroup': ['Name'],
  'AWS::SNS::Topic': ['TopicName', 'FifoTopic'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::KMS::Key': ['KeySpec', 'KeyUsage', 'MultiRegion'],
};

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

const sources = [
  { name: 'default', region: 'us' },
  { name: 'eu-app', region: 'eu' },
];
const handlers = {
  socialPlus: { region: 'us' },
  autoModeration: { enabled: true },
  keywordFilter: { enabled: true, words: ['spam'] },
  dailyCounters: { enabled: true },
  eventBridge: { enabled: true },
};

let apps: SynthesizedApp[] = [];
let lean: Resources;
let hardened: Resources;
beforeAll(() => {
  apps = [synthesize({ sources, handlers }), synthesize({ sources, handlers, profile: 'hardened' })];
  [lean, hardened] = apps.map((a) => a.template.toJSON().Resources as Resources) as [Resources, Resources];
}, 60_000);
afterAll(() => apps.forEach((a) => a.cleanup()));

const holding = (resources: Resources) => Object.entries(resources).filter(([, r]) => r.Type in REPLACING);

describe.each([
  ['lean', 'hardened'],
  ['hardened', 'lean'],
] as const)('switching from %s to %s', (fromName, toName) => {
  const pick = (name: 'lean' | 'hardened') => (name === 'lean' ? lean : hardened);

  it('keeps every data-holding resource under its logical id, with nothing that forces a replacement changed', () => {
    const from = pick(fromName);
    const to = pick(toName);
    const checked: string[] = [];
    for (const [id, r] of holding(from)) {
      const next = to[id];
      if (next === undefined) continue; // only this profile has it: the next test
      expect(next.Type, id).toBe(r.Type);
      for (const prop of REPLACING[r.Type] ?? []) expect(next.Properties?.[prop], `${id}.${prop}`).toEqual(r.Properties?.[prop]);
      expect([next.DeletionPolicy, next.UpdateReplacePolicy], id).toEqual([r.DeletionPolicy, r.UpdateReplacePolicy]);
      checked.push(r.Type);
    }
    // The event store, the handler state table, both buckets, the queues, the secrets, the archive's
    // stream and catalog, the alarm topic, its key and the log groups are all checked.
    for (const type of Object.keys(REPLACING)) expect(checked, type).toContain(type);
  });

  it('leaves behind only what the other profile adds, and no key that encrypted data is deleted', () => {
    const from = pick(fromName);
    const to = pick(toName);
    const dropped = holding(from).filter(([id]) => to[id] === undefined);
    for (const [id, r] of dropped) {
      if (r.Type === 'AWS::KMS::Key') {
        // Log lines and query results written under the key stay encrypted with it.
        expect([r.DeletionPolicy, r.UpdateReplacePolicy], id).toEqual(['Retain', 'Retain']);
      } else {
        // The API's execution log group, owned by the stack only when execution logging is on.
        expect(r.Type, id).toBe('AWS::Logs::LogGroup');
        expect(JSON.stringify(r.Properties?.LogGroupName), id).toContain('API-Gateway-Execution-Logs_');
      }
    }
    expect(dropped.length).toBe(fromName === 'hardened' ? 2 : 0);
  });
});
