/**
 * The inspector's pages, rendered on the server with the {@link html} tag (every value escaped).
 * The same row markup serves the first render and the rows the live stream pushes, so the page
 * and its updates cannot drift apart. Plain HTML: links, forms and buttons that work from the
 * keyboard and without the script; the script (`assets/inspector.js`) only adds live updates.
 */
export * from './views/page.js';
export * from './views/chart.js';
export * from './views/events-page.js';
export * from './views/event-page.js';
export * from './views/dlq-page.js';
