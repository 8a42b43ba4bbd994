/**
 * How `events` and `state` read local mode's DynamoDB tables (the event store, the example
 * handlers' state). dynalite keeps them in one folder that only one process may open, so:
 * - while local mode runs (its `dev.json` names a live process), through its admin routes
 *   (`GET /admin/dynamodb`, `POST /admin/dynamodb/{Query|GetItem|BatchGetItem}`, see
 *   `local/admin-api.ts`), with the token in `dev.json`: reads only, and dynalite stays private to
 *   that process, on loopback;
 * - otherwise by starting dynalite on the folder in this process, holding the folder's lock
 *   meanwhile (so local mode cannot start on it in between), answering only this command (fresh
 *   credentials, no web page).
 * Either way the caller gets a real `DynamoDBClient`, so the same queries serve local mode and AWS.
 */
import { existsSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fromAdminJson, toAdminJson, type AdminTables } from '../../local/admin-api.js';
import { claimLocalDir, isAlive, readDevInfo, type DevInfo } from '../../local/dev-lock.js';
import { generateEmulatorCredentials } from '../../local/emulator-credentials.js';
import { localDynamoDbClient, startDynalite } from '../../local/emulators.js';
import { ADMIN_AUTH_HEADER } from '../../local/http-front-door.js';
import { LOCAL_HANDLER_STATE_TABLE_NAME, LOCAL_TABLE_NAME, localPaths } from '../../local/paths.js';
import { CliError } from '../errors.js';
import { errorMessage } from '../../lambda/core/errors.js';

/** Local mode's tables, opened for reading. */
export interface LocalStore {
  /** `dev`: through the running local mode; `files`: dynalite started on its folder, local mode being stopped. */
  readonly via: 'dev' | 'files';
  readonly dynamodb: DynamoDBClient;
  readonly tables: AdminTables;
  close(): Promise<void>;
}

/** How long one admin request may take. */
const ADMIN_TIMEOUT_MS = 30_000;

/**
 * Opens local mode's tables in `root` (default: `.local` or `SOCIALPLUS_LOCAL_DIR`). A CliError
 * says what to do when there is nothing to read or the running local mode does not answer.
 */
export async function openLocalStore(root?: string): Promise<LocalStore> {
  const paths = localPaths(root);
  const info = await readDevInfo(paths.devInfoFile);
  if (info && isAlive(info.pid)) return adminStore(info);
  if (!existsSync(paths.dynamodb)) {
    throw new CliError(
      `no local event store in ${paths.dynamodb}: run socialplus-webhooks dev (npm start) and send some events first, or give --dir`,
    );
  }
  let release: () => Promise<void>;
  try {
    release = await claimLocalDir(paths.root);
  } catch (err) {
    // Local mode is starting (it holds the lock and has not written dev.json yet), or another tool reads.
    throw new CliError(`${errorMessage(err)}. If it is starting, wait until it prints "listening on" and run this again`);
  }
  try {
    // Credentials made for this run: while it lasts, dynalite answers this command only.
    const credentials = generateEmulatorCredentials();
    const dynalite = await startDynalite({ dir: paths.dynamodb, credentials });
    const dynamodb = localDynamoDbClient(dynalite.endpoint, { credentials });
    return {
      via: 'files',
      dynamodb,
      tables: { events: LOCAL_TABLE_NAME, handlerState: LOCAL_HANDLER_STATE_TABLE_NAME },
      async close() {
        dynamodb.destroy();
        try {
          await dynalite.close();
        } finally {
          await release();
        }
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** The running local mode's tables, read through its admin routes. */
async function adminStore(info: DevInfo): Promise<LocalStore> {
  const where = `local mode (process ${info.pid}) at ${info.url}`;
  const request = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    let res: Response;
    try {
      res = await fetch(`${info.url}/admin${path}`, {
        method,
        headers: { [ADMIN_AUTH_HEADER]: `Bearer ${info.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? errorMessage(err);
      throw new CliError(`${where} did not answer (${cause}); if it is stuck, stop it and run this command again`);
    }
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { message: text.slice(0, 200) };
    }
    return { status: res.status, json };
  };

  const described = await request('GET', '/dynamodb');
  const tables = described.json.tables as Partial<AdminTables> | undefined;
  if (described.status !== 200 || typeof tables?.events !== 'string' || typeof tables.handlerState !== 'string') {
    throw new CliError(
      `${where} does not serve its tables (GET /admin/dynamodb answered ${described.status}: ${String(described.json.message ?? '')}): it predates this command; restart it (npm start) and run this again`,
    );
  }

  // A real client whose every command is answered by the admin route, before anything is signed or sent.
  const dynamodb = localDynamoDbClient(info.url);
  dynamodb.middlewareStack.add(
    (_next, context) => async (args) => {
      const operation = (context.commandName ?? '').replace(/Command$/, '');
      const answer = await request('POST', `/dynamodb/${operation}`, toAdminJson(args.input));
      if (answer.status !== 200) {
        const name = typeof answer.json.name === 'string' ? answer.json.name : 'LocalModeAdminError';
        throw Object.assign(new Error(`${where}: ${operation}: ${String(answer.json.message ?? `answered ${answer.status}`)}`), { name });
      }
      return { output: { $metadata: {}, ...(fromAdminJson(answer.json) as object) } as never, response: undefined };
    },
    { step: 'initialize', name: 'localModeAdminRoute', priority: 'high' },
  );
  return {
    via: 'dev',
    dynamodb,
    tables: { events: tables.events, handlerState: tables.handlerState },
    async close() {
      dynamodb.destroy();
    },
  };
}
