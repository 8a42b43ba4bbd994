/**
 * Social Plus webhook source IPs per region (docs/social-plus.md §3). These are the lists
 * Social Plus published for deliveries from June 9, 2025; the older addresses stopped working then.
 * When Social Plus publishes new addresses, this file is the only place to change.
 */

/** The Social Plus regions a network can live in. */
export const SOCIALPLUS_REGIONS = ['sg', 'eu', 'us'] as const;

/** A Social Plus region: `sg` (Singapore), `eu` (Frankfurt), `us` (N. Virginia). */
export type SocialPlusRegion = (typeof SOCIALPLUS_REGIONS)[number];

/** Webhook source addresses per region, as IPv4 `/32` CIDRs. */
export const SOCIALPLUS_WEBHOOK_IPS: Readonly<Record<SocialPlusRegion, readonly string[]>> = {
  sg: ['52.77.130.167/32', '54.251.77.74/32', '54.255.59.189/32', '18.142.212.217/32'],
  eu: ['3.127.106.141/32', '3.65.238.41/32', '3.65.52.7/32', '3.77.135.138/32'],
  us: ['52.70.191.115/32', '100.24.154.219/32', '52.44.28.213/32', '52.72.76.90/32'],
};

/**
 * The webhook source CIDRs for the given regions, in the fixed region order sg, eu, us whatever
 * order the regions come in (so reordering sources never changes the IP set), without duplicates.
 */
export function socialPlusWebhookCidrs(regions: Iterable<SocialPlusRegion>): string[] {
  const wanted = new Set(regions);
  return SOCIALPLUS_REGIONS.filter((r) => wanted.has(r)).flatMap((r) => SOCIALPLUS_WEBHOOK_IPS[r]);
}
