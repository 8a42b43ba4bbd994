/** The rule for `handlers`: the example handlers' configuration, with `socialPlus.region` from the sources. */
import { HandlersConfigError, parseHandlersConfig, type HandlersConfig } from '../../lambda/fanout/handlers/config.js';
import { callsSocialPlusApi } from './derive.js';
import { readJson, show } from './problems.js';
import { earlier, type Field } from './rule.js';

const HANDLERS_EXAMPLE = '{"autoModeration":{"enabled":true},"socialPlus":{"region":"us"}}';

/**
 * `handlers`: an object (or its JSON) that `parseHandlersConfig` accepts; its problems are the
 * configuration's. When every source is in one region and no API region or base URL is given,
 * that region is the API's, kept only when an enabled handler calls the API.
 */
export function readHandlers(f: Field<'handlers'>): HandlersConfig {
  const c = f.problems;
  const fallback = parseHandlersConfig({});
  const value = f.raw === undefined || f.raw === '' ? {} : readJson(c, 'handlers', f.raw, HANDLERS_EXAMPLE);
  if (value === undefined) return fallback;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    c.add(`handlers: ${show(value)} is not a JSON object (e.g. ${HANDLERS_EXAMPLE})`);
    return fallback;
  }
  const given = value as Record<string, unknown>;
  // The API client is for one network: when every source is in one region, that is the API's region.
  const regions = [...new Set(earlier(f.read, 'sources').map((s) => s.region))];
  const sp = given.socialPlus;
  const spObject = typeof sp === 'object' && sp !== null && !Array.isArray(sp) ? (sp as Record<string, unknown>) : undefined;
  const fillRegion =
    regions.length === 1 && (sp === undefined || (spObject !== undefined && spObject.region === undefined && spObject.baseUrl === undefined));
  const input = fillRegion ? { ...given, socialPlus: { ...spObject, region: regions[0] } } : given;
  let parsed: HandlersConfig;
  try {
    parsed = parseHandlersConfig(input, "context key 'handlers'");
  } catch (err) {
    if (!(err instanceof HandlersConfigError)) throw err;
    for (const problem of err.problems) c.add(problem);
    return fallback;
  }
  // A region filled in for nothing would only create a secret no handler reads.
  if (sp === undefined && fillRegion && !callsSocialPlusApi(parsed)) {
    const { socialPlus: _unused, ...rest } = parsed;
    return rest;
  }
  return parsed;
}
