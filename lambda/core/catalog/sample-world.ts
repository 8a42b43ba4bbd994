/**
 * The people, places and things of one generated sample (`./sample.ts`), drawn once from its seed
 * so every reference in the payload agrees.
 */

/** A JSON object. */
export type SamplePayload = Record<string, unknown>;

export const NETWORK_ID = '64e0aa11bb22cc33dd44ee55';

const PEOPLE: ReadonlyArray<readonly [string, string]> = [
  ['mika.tan', 'Mika Tan'],
  ['ben.w', 'Ben W'],
  ['nok.s', 'Nok S'],
  ['raj.p', 'Raj P'],
  ['alina.k', 'Alina K'],
  ['tom.h', 'Tom H'],
  ['sara.l', 'Sara L'],
  ['kenji.o', 'Kenji O'],
];
const CHANNELS: ReadonlyArray<readonly [string, string]> = [
  ['support-lobby', 'Support Lobby'],
  ['general', 'General'],
  ['trail-runners-bkk', 'Trail Runners BKK'],
  ['orders-help', 'Orders Help'],
];
const COMMUNITIES: ReadonlyArray<readonly [string, string, string]> = [
  ['Trail Runners BKK', 'Sunday long runs and race talk', 'Sports'],
  ['Sourdough Club', 'Starters, crumb shots, oven talk', 'Food & Drink'],
  ['Night Photographers', 'City lights after dark', 'Photography'],
  ['Board Game Nights', 'Weekly meetups and reviews', 'Games'],
];
const TEXTS = [
  'Has anyone tried the new checkout flow?',
  'Sunday 6am long run, meet at the park gate',
  'Count me in!',
  'Order #5531 still not shipped',
  'Proofing overnight in the fridge worked great',
  'Which lens for the skyline shots?',
];
export const TAGS = ['trail-running', 'sourdough', 'night-shots', 'board-games'];

export interface Person {
  readonly userId: string;
  readonly displayName: string;
  readonly internalId: string;
  readonly createdAt: string;
}

/** A small deterministic generator (mulberry32). */
class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

/** Everything one sample mentions, drawn once from the seed so every reference agrees. */
export class World {
  private readonly rng: Rng;
  /** When the event happened: the primary entity's `updatedAt`. */
  readonly now: number;
  /** Who acted: sender, author, creator, follower, reactor's subject… */
  readonly actor: Person;
  /** The other side: reactor, flagger, followee, added or banned member. */
  readonly other: Person;
  /** A moderator or a third member. */
  readonly third: Person;
  readonly channel: { readonly channelId: string; readonly internalId: string; readonly displayName: string };
  readonly community: {
    readonly communityId: string;
    readonly displayName: string;
    readonly description: string;
    readonly categoryId: string;
    readonly category: string;
  };
  readonly text: string;

  constructor(seed: number) {
    this.rng = new Rng(seed);
    this.now = Date.UTC(2025, 6, 2, 8, 0, 0) + this.rng.int(10 * 3600 * 1000);
    const order = [...PEOPLE.keys()];
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const [a, b, c] = order.slice(0, 3).map((i) => this.person(PEOPLE[i] as readonly [string, string]));
    this.actor = a as Person;
    this.other = b as Person;
    this.third = c as Person;
    const [channelId, channelName] = this.rng.pick(CHANNELS);
    this.channel = { channelId, internalId: this.objectId(), displayName: channelName };
    const [communityName, description, category] = this.rng.pick(COMMUNITIES);
    this.community = { communityId: this.objectId(), displayName: communityName, description, categoryId: this.objectId(), category };
    this.text = this.rng.pick(TEXTS);
  }

  /** A 24-hex-digit id like the ones Social Plus gives (a MongoDB ObjectId). */
  objectId(): string {
    let hex = '665';
    while (hex.length < 24) hex += this.rng.int(16).toString(16);
    return hex;
  }

  /** An ISO time `minutesBefore` minutes before the event (0: the event's own time). */
  time(minutesBefore = 0): string {
    return new Date(this.now - minutesBefore * 60_000).toISOString();
  }

  int(below: number): number {
    return this.rng.int(below);
  }

  pick<T>(items: readonly T[]): T {
    return this.rng.pick(items);
  }

  private person([userId, displayName]: readonly [string, string]): Person {
    return {
      userId,
      displayName,
      internalId: this.objectId(),
      createdAt: new Date(Date.UTC(2024, 10, 1) + this.rng.int(200) * 86_400_000).toISOString(),
    };
  }
}
