/**
 * Stateful resources keep their logical ids: a changed id makes CloudFormation create a new resource
 * and drop the old one (events, archive objects, pasted secrets, queued messages). If this test
 * fails, a construct id or the construct tree changed; put it back rather than update the list.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { synthesize, type SynthesizedApp } from './helpers.js';

const STATEFUL: Record<string, readonly string[]> = {
  'AWS::DynamoDB::GlobalTable': ['EventStoreTable9A84AAAA'],
  'AWS::S3::Bucket': ['ArchiveAccessLogsBucket848A773E', 'ArchiveBucket49F1AC64'],
  'AWS::SecretsManager::Secret': ['SecretsSecretdefault2608C7E2', 'SecretsSecreteuapp0870593B'],
  'AWS::SQS::Queue': ['Queue381943A6', 'QueueDeadLetterQueue27D1B28A'],
  'AWS::KinesisFirehose::DeliveryStream': ['ArchiveDeliveryStream87A0F874'],
  'AWS::Glue::Database': ['ArchiveCatalogDatabaseF26CC0BE'],
  'AWS::Glue::Table': ['ArchiveCatalogEventsTableB2A048C1'],
  'AWS::Athena::WorkGroup': ['ArchiveCatalogWorkGroup3C834A34'],
  // Subscribers (confirmed e-mails, chat and paging integrations) point at its ARN.
  'AWS::SNS::Topic': ['MonitoringAlarmTopicAF62D4F1'],
};

/** What the example handlers add when every one is on (each only when enabled; see handlers.test.ts). */
const HANDLER_STATEFUL: Record<string, readonly string[]> = {
  // Flags, ban claims and counters: a new table would re-ban users and restart the counts.
  'AWS::DynamoDB::GlobalTable': ['EventStoreTable9A84AAAA', 'HandlersStateTable3AAF8CC6'],
  // Holds the pasted admin token; EventBridge rules and their targets are attached to the bus.
  'AWS::SecretsManager::Secret': ['SecretsSecretdefault2608C7E2', 'SecretsSecreteuapp0870593B', 'HandlersSocialPlusApiSecret64C2142D'],
  'AWS::Events::EventBus': ['HandlersEventBus5A951E14'],
};

let synth: SynthesizedApp;
let withHandlers: SynthesizedApp;
beforeAll(() => {
  const sources = [
    { name: 'default', region: 'us' },
    { name: 'eu-app', region: 'eu' },
  ];
  synth = synthesize({ sources });
  withHandlers = synthesize({
    sources,
    handlers: {
      socialPlus: { region: 'us' },
      autoModeration: { enabled: true },
      keywordFilter: { enabled: true, words: ['spam'] },
      dailyCounters: { enabled: true },
      eventBridge: { enabled: true },
    },
  });
});
afterAll(() => {
  synth.cleanup();
  withHandlers.cleanup();
});

it.each(Object.entries(HANDLER_STATEFUL))('%s keeps its logical ids with every example handler on', (type, ids) => {
  expect(Object.keys(withHandlers.template.findResources(type)).sort()).toEqual([...ids].sort());
});

it.each(Object.entries(STATEFUL))('%s keeps its logical ids', (type, ids) => {
  expect(Object.keys(synth.template.findResources(type)).sort()).toEqual([...ids].sort());
});

it('retains the handler state table like the event store', () => {
  const table = withHandlers.template.toJSON().Resources.HandlersStateTable3AAF8CC6;
  expect(table.DeletionPolicy).toBe('Retain');
  expect(table.UpdateReplacePolicy).toBe('Retain');
});

it('retains the table and both buckets when the stack is deleted or they are replaced', () => {
  for (const type of ['AWS::DynamoDB::GlobalTable', 'AWS::S3::Bucket']) {
    for (const resource of Object.values(synth.template.findResources(type))) {
      expect(resource.DeletionPolicy).toBe('Retain');
      expect(resource.UpdateReplacePolicy).toBe('Retain');
    }
  }
});
