/**
 * The rehearsal's stand-in for Lambda's Node.js runtime, run by `./lambda-sandbox.ts` in a child
 * process whose environment is exactly the function's (no loader, no test framework, a fresh module
 * cache). Before anything else it wraps `process.env` in a Proxy that records every variable name
 * read (or tested with `in`), and when each was first read: at `init` (importing the handler
 * module, Lambda's init phase) or during an `invoke`.
 *
 * argv: the handler module's path and the export to call. Over IPC it sends `ready` (or
 * `init-error`) after the import, and answers each `invoke` message `{ id, event, context,
 * traceId }` with `result` or `error`, each carrying the variables read so far.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [entryFile, exportName] = process.argv.slice(2);
/** @type {Map<string, 'init' | 'invoke'>} */
const reads = new Map();
let phase = 'init';
let enumerated = false;
const realEnv = process.env;

const note = (key) => {
  if (typeof key === 'string' && !reads.has(key)) reads.set(key, phase);
};
process.env = new Proxy(realEnv, {
  get(target, key) {
    note(key);
    return Reflect.get(target, key);
  },
  has(target, key) {
    note(key);
    return Reflect.has(target, key);
  },
  ownKeys(target) {
    enumerated = true;
    return Reflect.ownKeys(target);
  },
  set(target, key, value) {
    target[key] = value;
    return true;
  },
  deleteProperty(target, key) {
    delete target[key];
    return true;
  },
});

/** What has been read so far, for the parent. */
const envReads = () => ({ reads: [...reads].map(([name, when]) => ({ name, when })), enumerated });

/** An error as plain data (IPC carries JSON). */
const serialize = (err) => ({
  name: err?.name ?? 'Error',
  message: err?.message ?? String(err),
  stack: err?.stack ?? '',
});

const send = (message) => new Promise((resolve) => process.send(message, () => resolve()));

// As Lambda: an uncaught error ends the execution environment.
process.on('uncaughtException', (err) => void send({ type: 'crash', error: serialize(err), env: envReads() }).then(() => process.exit(1)));
process.on('unhandledRejection', (err) => void send({ type: 'crash', error: serialize(err), env: envReads() }).then(() => process.exit(1)));

let handler;
const started = performance.now();
try {
  const module = await import(pathToFileURL(entryFile).href);
  handler = module[exportName];
  if (typeof handler !== 'function')
    throw new TypeError(`${entryFile} does not export a function '${exportName}' (exports: ${Object.keys(module).join(', ')})`);
} catch (err) {
  await send({ type: 'init-error', error: serialize(err), env: envReads() });
  process.exit(1);
}
await send({ type: 'ready', initMs: performance.now() - started, env: envReads() });

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  phase = 'invoke';
  // Lambda's runtime sets the invocation's trace header in the environment before calling the handler.
  if (message.traceId) realEnv._X_AMZN_TRACE_ID = message.traceId;
  const deadline = Date.now() + message.context.timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: message.context.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: message.context.invokedFunctionArn,
    memoryLimitInMB: String(message.context.memoryLimitInMB),
    awsRequestId: message.context.awsRequestId,
    logGroupName: message.context.logGroupName,
    logStreamName: message.context.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  const t0 = performance.now();
  try {
    const result = await handler(message.event, context);
    await send({ type: 'result', id: message.id, result: result === undefined ? null : result, durationMs: performance.now() - t0, env: envReads() });
  } catch (err) {
    await send({ type: 'error', id: message.id, error: serialize(err), durationMs: performance.now() - t0, env: envReads() });
  }
});
