/**
 * The typed event catalog: zod schemas and TypeScript types for every event family of docs/social-plus.md §5.
 * Only the fan-out side imports this folder (the receiver must not load zod: its cold start is a
 * budget, docs/architecture.md §10); the plain name lists stay in `../catalog.ts`.
 */
export * from './entities.js';
export * from './events.js';
export * from './parse.js';
export type { PayloadFor } from './payload-for.js';
