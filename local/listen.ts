/** Starting a local mode server. */
import type { Server } from 'node:http';

/** Starts `server` listening on `host:port`; rejects with the server's error (e.g. EADDRINUSE) when it cannot. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
