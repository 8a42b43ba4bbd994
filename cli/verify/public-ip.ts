/**
 * This machine's public IP as the internet sees it, for the firewall advice of `verify`: one GET to
 * a what-is-my-IP service with a short timeout. Never throws: undefined when it cannot tell.
 */
import { isIP } from 'node:net';

/** The service asked: answers the caller's address as plain text. */
export const CHECKIP_URL = 'https://checkip.amazonaws.com';

/** How long the lookup may take; the advice falls back to a placeholder after it. */
export const CHECKIP_TIMEOUT_MS = 3000;

export interface PublicIpOptions {
  readonly url?: string;
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** The caller's public IPv4 or IPv6 address; undefined on any failure or an answer that is not an address. */
export async function lookupPublicIp(opts: PublicIpOptions = {}): Promise<string | undefined> {
  const get = opts.fetch ?? fetch;
  try {
    const res = await get(opts.url ?? CHECKIP_URL, { signal: AbortSignal.timeout(opts.timeoutMs ?? CHECKIP_TIMEOUT_MS) });
    if (!res.ok) return undefined;
    const text = (await res.text()).trim();
    return isIP(text) === 0 ? undefined : text;
  } catch {
    return undefined;
  }
}
