/** Rules for where events come from: the webhook `sources` and the firewall's extra `allowedCidrs`. */
import { SOURCE_NAME } from '../../lambda/core/sources.js';
import { parseCidr } from '../cidr.js';
import { SOCIALPLUS_REGIONS } from '../socialplus-ips.js';
import { sourceIdPart } from './derive.js';
import { checkSecretArn, readJson, readList, readOneOf, show } from './problems.js';
import type { Field } from './rule.js';
import type { WebhookSourceConfig } from './schema.js';

const SOURCE_KEYS = ['name', 'region', 'secretArn'] as const;

/** `sources`: a non-empty list of `{name, region, secretArn?}`, names unique and distinct as output ids. */
export function readSources(f: Field<'sources'>): WebhookSourceConfig[] {
  const c = f.problems;
  const example = '[{"name":"default","region":"us"}]';
  if (f.raw === undefined) return [...f.fallback];
  const value = readJson(c, 'sources', f.raw, example);
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length === 0) {
    c.add(`sources: ${show(value)} is not a non-empty array of {name, region, secretArn?} (e.g. ${example})`);
    return [];
  }
  const sources: WebhookSourceConfig[] = [];
  const byName = new Map<string, number>();
  const byOutputId = new Map<string, number>();
  value.forEach((entry: unknown, i) => {
    const at = `sources[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      c.add(`${at}: ${show(entry)} is not an object like {"name":"default","region":"us"}`);
      return;
    }
    const item = entry as Record<string, unknown>;
    for (const key of Object.keys(item)) {
      if (!(SOURCE_KEYS as readonly string[]).includes(key)) c.add(`${at}.${key}: is not a source key; allowed keys are ${SOURCE_KEYS.join(', ')}`);
    }
    const name = item.name;
    let nameOk = false;
    if (typeof name !== 'string' || !SOURCE_NAME.test(name)) {
      c.add(
        `${at}.name: ${show(name)} is not a source name: lower-case letters, digits and hyphens, starting with a letter or digit, at most 64 characters (${SOURCE_NAME.source})`,
      );
    } else if (byName.has(name)) {
      c.add(`${at}.name: ${show(name)} is already used by sources[${byName.get(name)}]; source names must be unique`);
    } else if (byOutputId.has(sourceIdPart(name))) {
      c.add(
        `${at}.name: ${show(name)} would share stack output names with sources[${byOutputId.get(sourceIdPart(name))}] (both become '${sourceIdPart(name)}'); rename one`,
      );
    } else {
      byName.set(name, i);
      byOutputId.set(sourceIdPart(name), i);
      nameOk = true;
    }
    const regionBefore = c.count;
    if (item.region === undefined)
      c.add(`${at}.region: is missing; set the Social Plus region of the network, one of ${SOCIALPLUS_REGIONS.join(', ')}`);
    const region = readOneOf(c, `${at}.region`, item.region, SOCIALPLUS_REGIONS, 'us');
    const secretArn = item.secretArn;
    const secretOk = checkSecretArn(c, `${at}.secretArn`, secretArn);
    if (nameOk && secretOk && c.count === regionBefore) {
      sources.push(secretArn === undefined ? { name: name as string, region } : { name: name as string, region, secretArn: secretArn as string });
    }
  });
  return sources;
}

/** `allowedCidrs`: IPv4 or IPv6 CIDRs, as a list or (from `-c`) a comma-separated string; normalised, without repeats. */
export function readCidrs(f: Field<'allowedCidrs'>): string[] {
  const c = f.problems;
  const raw = f.raw;
  if (raw === undefined) return [...f.fallback];
  const value = readList(c, 'allowedCidrs', raw, '["203.0.113.7/32"]');
  if (!Array.isArray(value)) {
    c.add(`allowedCidrs: ${show(raw)} is not a list of CIDRs (e.g. ["203.0.113.7/32"] or 203.0.113.7/32,198.51.100.0/24)`);
    return [];
  }
  const cidrs: string[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') {
      c.add(`allowedCidrs[${i}]: ${show(entry)} is not a CIDR string (e.g. 203.0.113.7/32)`);
      return;
    }
    const parsed = parseCidr(entry);
    if ('problem' in parsed) c.add(`allowedCidrs[${i}]: ${show(entry)} ${parsed.problem}`);
    else if (!cidrs.includes(parsed.cidr)) cidrs.push(parsed.cidr);
  });
  return cidrs;
}
