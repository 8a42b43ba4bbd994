/**
 * DynamoDB item sizes and write units, by the rules AWS documents (docs/aws-facts.md §1.6 §1.6; Developer Guide
 * "Item sizes and formats", "Capacity unit consumption"): an item is the sum of its attribute
 * names' and values' sizes; one write unit per started KB (1,024 B); each global secondary index
 * that holds the item takes its own write, sized by the index entry (table keys, index keys and
 * projected attributes); an update is billed on the larger of the item before and after it.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Size of a number: 1 byte per two significant digits, plus 1. */
function numberSize(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

/** Size of one attribute value (without its name). */
export function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((s, x) => s + utf8(x), 0);
  if (v.NS !== undefined) return v.NS.reduce((s, x) => s + numberSize(x), 0);
  if (v.BS !== undefined) return v.BS.reduce((s, x) => s + x.byteLength, 0);
  // Lists and maps: 3 bytes, plus 1 byte per element, plus the elements (and a map's names).
  if (v.L !== undefined) return 3 + v.L.reduce((s, x) => s + 1 + valueSize(x), 0);
  if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + utf8(k) + valueSize(x), 0);
  throw new Error(`unknown attribute value type: ${JSON.stringify(Object.keys(v))}`);
}

/** Size of an item: every attribute's name plus value. */
export function itemSize(item: Readonly<Record<string, AttributeValue>>): number {
  return Object.entries(item).reduce((s, [k, v]) => s + utf8(k) + valueSize(v), 0);
}

/** Write units for a write of `bytes`: one per started KB, at least one. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** A global secondary index as the write-unit arithmetic needs it. */
export interface IndexShape {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Non-key attributes the index projects (INCLUDE). */
  readonly projected: readonly string[];
}

/** The writes one `PutItem` of a new item makes: the table's and each index's that holds it. */
export function putWrites(
  item: Readonly<Record<string, AttributeValue>>,
  tableKeys: readonly string[],
  indexes: readonly IndexShape[],
): { readonly itemBytes: number; readonly tableUnits: number; readonly indexUnits: number; readonly indexWrites: number } {
  const itemBytes = itemSize(item);
  let indexUnits = 0;
  let indexWrites = 0;
  for (const ix of indexes) {
    // Sparse: an item without the index's keys is not in it and costs it nothing.
    if (item[ix.partitionKey] === undefined || (ix.sortKey !== undefined && item[ix.sortKey] === undefined)) continue;
    const names = new Set([...tableKeys, ix.partitionKey, ...(ix.sortKey ? [ix.sortKey] : []), ...ix.projected]);
    const entry = Object.fromEntries([...names].filter((n) => item[n] !== undefined).map((n) => [n, item[n] as AttributeValue]));
    indexUnits += writeUnits(itemSize(entry));
    indexWrites++;
  }
  return { itemBytes, tableUnits: writeUnits(itemBytes), indexUnits, indexWrites };
}
