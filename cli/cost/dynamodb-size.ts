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

/** What one write to the event table was billed: its own units and its index entries' (puts only). */
export interface BilledWrite {
  readonly kind: 'put' | 'update';
  readonly itemBytes: number;
  readonly tableUnits: number;
  readonly indexUnits: number;
  readonly indexWrites: number;
}

/**
 * The write units of the event store's requests, by AWS's rules, as the DynamoDB adapter
 * (lambda/adapters/dynamodb-store.ts) sends them: a `PutItem` of a new item, and the `UpdateItem`
 * that records handler outcomes (billed on the larger of the item before and after: it sets
 * `handlers.<name>` for each success, replaces `handlerRuns` whole, and may remove
 * `archivePending`). Keeps each item's size by partition key to size the updates that follow.
 */
export class WriteLedger {
  private readonly itemSizes = new Map<string, number>();
  private readonly runsSizes = new Map<string, number>();
  private readonly pendingSizes = new Map<string, number>();

  constructor(
    private readonly tableKeys: readonly string[],
    private readonly indexes: readonly IndexShape[],
  ) {}

  /** A `PutItem` of `item` that created it. */
  put(item: Readonly<Record<string, AttributeValue>>): BilledWrite {
    const w = putWrites(item, this.tableKeys, this.indexes);
    const pk = item[this.tableKeys[0] as string]?.S;
    if (pk) {
      this.itemSizes.set(pk, w.itemBytes);
      const pending = item.archivePending;
      if (pending) this.pendingSizes.set(pk, 'archivePending'.length + valueSize(pending));
    }
    return { kind: 'put', ...w };
  }

  /** An `UpdateItem` with `input`'s key, names, values and update expression. */
  update(input: {
    readonly Key?: Readonly<Record<string, AttributeValue>>;
    readonly UpdateExpression?: string;
    readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
    readonly ExpressionAttributeValues?: Readonly<Record<string, AttributeValue>>;
  }): BilledWrite {
    const pk = input.Key?.[this.tableKeys[0] as string]?.S;
    const names = Object.values(input.ExpressionAttributeNames ?? {}).filter((n) => n !== 'handlers');
    const before = (pk && this.itemSizes.get(pk)) || 0;
    let after = before + names.reduce((s, n) => s + 1 + Buffer.byteLength(n) + 1, 0);
    const runs = input.ExpressionAttributeValues?.[':runs'];
    if (runs && pk) {
      const size = 'handlerRuns'.length + valueSize(runs);
      after += size - (this.runsSizes.get(pk) ?? 0);
      this.runsSizes.set(pk, size);
    }
    if (pk && String(input.UpdateExpression ?? '').includes('REMOVE archivePending')) {
      after -= this.pendingSizes.get(pk) ?? 0;
      this.pendingSizes.delete(pk);
    }
    if (pk) this.itemSizes.set(pk, after);
    const itemBytes = Math.max(before, after);
    return { kind: 'update', itemBytes, tableUnits: writeUnits(itemBytes), indexUnits: 0, indexWrites: 0 };
  }
}
