// dynalite in a worker thread (see `startDynalite({ thread: true })` in emulators.ts): its LevelDB
// work then runs on another core than the pipeline. Plain JavaScript, because a worker thread loads
// its module with Node's own loader, without the TypeScript loader of the process that starts it.
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const { path, port } = workerData;
const server = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (err) => parentPort.postMessage({ error: err.message }));
server.listen(port ?? 0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (msg) => {
  if (msg !== 'close') return;
  server.closeAllConnections?.();
  server.close(() => parentPort.postMessage({ closed: true }));
});
