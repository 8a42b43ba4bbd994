/**
 * Runs a synthesized function bundle the way Lambda would, in a child process of its own: a fresh
 * `node` (no loader, no test framework) started in the asset folder (Lambda's `/var/task`) with
 * exactly the environment Lambda would give it (the template's variables plus Lambda's reserved
 * ones), which imports the handler module once (the init phase) and then handles invocations sent
 * over IPC, in one warm execution environment. The child is `./lambda-runtime.mjs`; it records
 * every environment variable the bundle reads.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FunctionModel } from './stack-model.js';

const RUNTIME = fileURLToPath(new URL('./lambda-runtime.mjs', import.meta.url));

/** Names Lambda reserves: a template setting one fails to deploy, and the runtime sets them itself. */
export const LAMBDA_RESERVED_VARIABLES: readonly string[] = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];

/** The temporary credentials of the function's role session. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface LambdaEnvironmentOptions {
  readonly fn: FunctionModel;
  /** The template's variables, resolved. */
  readonly variables: Readonly<Record<string, string>>;
  readonly region: string;
  readonly credentials: SessionCredentials;
  /** `AWS_ENDPOINT_URL_<SERVICE>` (and `AWS_ENDPOINT_URL`) variables pointing the SDK at the stand-ins. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** `host:port` of the X-Ray daemon stand-in, for a function with active tracing. */
  readonly xrayDaemon?: string;
  /** A folder for the SDK's (absent) shared config and credentials files. */
  readonly scratchDir: string;
  /** The log stream name Lambda would give this execution environment. */
  readonly logStreamName: string;
}

/**
 * The environment Lambda gives the function: the template's variables, then Lambda's reserved ones
 * (what the nodejs runtime sets; `AWS_LAMBDA_RUNTIME_API` is left out, as nothing here serves
 * Lambda's runtime API), then what points the SDK at the rehearsal's stand-ins: the endpoint
 * variables, and shared config and credentials files that do not exist (Lambda has none; this
 * machine's must not leak in). Throws when the template sets a reserved name, which Lambda refuses.
 */
export function lambdaEnvironment(o: LambdaEnvironmentOptions): Record<string, string> {
  const clash = Object.keys(o.variables).filter((k) => LAMBDA_RESERVED_VARIABLES.includes(k) || k.startsWith('AWS_ENDPOINT_URL'));
  if (clash.length > 0)
    throw new Error(`${o.fn.logicalId} sets variables Lambda reserves, or that would point its SDK elsewhere: ${clash.join(', ')}`);
  if (o.fn.code.kind !== 'asset') throw new Error(`${o.fn.logicalId} has no asset folder to run (${o.fn.code.detail})`);
  const tracing: Record<string, string> =
    o.fn.tracing === 'Active' && o.xrayDaemon !== undefined
      ? {
          AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
          AWS_XRAY_DAEMON_ADDRESS: o.xrayDaemon,
          _AWS_XRAY_DAEMON_ADDRESS: o.xrayDaemon.split(':')[0] as string,
          _AWS_XRAY_DAEMON_PORT: o.xrayDaemon.split(':')[1] as string,
        }
      : {};
  const logging: Record<string, string> =
    o.fn.logFormat === 'JSON' ? { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: o.fn.applicationLogLevel ?? 'INFO' } : {};
  return {
    ...o.variables,
    _HANDLER: o.fn.handler,
    AWS_REGION: o.region,
    AWS_DEFAULT_REGION: o.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${o.fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: o.fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: o.fn.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: o.logStreamName,
    AWS_ACCESS_KEY_ID: o.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: o.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: o.credentials.sessionToken,
    LAMBDA_TASK_ROOT: o.fn.code.dir,
    LAMBDA_RUNTIME_DIR: fileURLToPath(new URL('.', import.meta.url)),
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin:/bin',
    ...tracing,
    ...logging,
    ...o.endpoints,
    AWS_CONFIG_FILE: `${o.scratchDir}/no-aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${o.scratchDir}/no-aws-credentials`,
    // This machine runs Node.js 20, the function nodejs22.x: the bundled SDK would warn about the former.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** A variable the bundle read, and whether first at init (module import) or during an invocation. */
export interface EnvRead {
  readonly name: string;
  readonly when: 'init' | 'invoke';
}

/** What one invocation returned. */
export interface Invocation<R = unknown> {
  readonly requestId: string;
  /** The handler's result (JSON round-tripped), when it returned. */
  readonly result?: R;
  /** What it threw, when it threw. */
  readonly error?: { readonly name: string; readonly message: string; readonly stack: string };
  readonly durationMs: number;
}

type ChildMessage =
  | { type: 'ready'; initMs: number; env: EnvState }
  | { type: 'init-error' | 'crash'; error: { name: string; message: string; stack: string }; env: EnvState }
  | { type: 'result'; id: string; result: unknown; durationMs: number; env: EnvState }
  | { type: 'error'; id: string; error: { name: string; message: string; stack: string }; durationMs: number; env: EnvState };

interface EnvState {
  reads: EnvRead[];
  enumerated: boolean;
}

/** One function's execution environment, alive until {@link LambdaSandbox.close}. */
export class LambdaSandbox {
  private env: EnvState = { reads: [], enumerated: false };
  private readonly pending = new Map<string, { resolve: (i: Invocation) => void; reject: (e: Error) => void }>();
  private output = '';
  private exited: Error | undefined;
  /** How long the init phase (importing the handler module) took. */
  initMs = 0;

  private constructor(
    readonly fn: FunctionModel,
    private readonly child: ChildProcess,
    readonly environment: Readonly<Record<string, string>>,
  ) {
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString('utf8')));
    child.on('message', (m: ChildMessage) => this.onMessage(m));
    child.on('exit', (code, signal) => {
      this.exited = new Error(`${fn.logicalId}'s process exited (${signal ?? `code ${code}`})\n${this.output.slice(-4000)}`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  /**
   * Starts the function's execution environment and runs its init phase; rejects with the error
   * and the output when the handler module fails to load, or after Lambda's 10 s init limit.
   */
  static start(fn: FunctionModel, environment: Readonly<Record<string, string>>): Promise<LambdaSandbox> {
    if (fn.code.kind !== 'asset') return Promise.reject(new Error(`${fn.logicalId} has no asset folder to run (${fn.code.detail})`));
    const child = fork(RUNTIME, [fn.code.entryFile, fn.code.exportName], {
      cwd: fn.code.dir,
      env: { ...environment },
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const sandbox = new LambdaSandbox(fn, child, environment);
    return new Promise<LambdaSandbox>((resolve, reject) => {
      const limit = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${fn.logicalId}: init took longer than Lambda's 10 s\n${sandbox.output}`));
      }, 10_000);
      const onMessage = (m: ChildMessage) => {
        if (m.type === 'ready') {
          clearTimeout(limit);
          child.off('message', onMessage);
          child.off('exit', onExit);
          sandbox.initMs = m.initMs;
          resolve(sandbox);
        } else if (m.type === 'init-error' || m.type === 'crash') {
          clearTimeout(limit);
          reject(new Error(`${fn.logicalId}: init failed: ${m.error.name}: ${m.error.message}\n${m.error.stack}\n--- output ---\n${sandbox.output}`));
        }
      };
      const onExit = () => {
        clearTimeout(limit);
        reject(new Error(`${fn.logicalId}: the process ended during init\n${sandbox.output}`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  /** Invokes the handler with an event and a Lambda context; rejects after the function's timeout. */
  invoke<R = unknown>(event: unknown, requestId: string, traceId?: string): Promise<Invocation<R>> {
    if (this.exited) return Promise.reject(this.exited);
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    return new Promise<Invocation<R>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`${this.fn.logicalId}: invocation ${requestId} timed out after ${timeoutMs} ms\n${this.output.slice(-4000)}`));
      }, timeoutMs);
      this.pending.set(requestId, {
        resolve: (i) => {
          clearTimeout(timer);
          resolve(i as Invocation<R>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({
        type: 'invoke',
        id: requestId,
        event,
        traceId: traceId ?? null,
        context: {
          timeoutMs,
          functionName: this.fn.name,
          invokedFunctionArn: this.fn.arn,
          memoryLimitInMB: this.fn.memorySize,
          awsRequestId: requestId,
          logGroupName: this.fn.logGroupName,
          logStreamName: this.environment.AWS_LAMBDA_LOG_STREAM_NAME,
        },
      });
    });
  }

  /** Every variable read so far, with when it was first read. */
  get envReads(): readonly EnvRead[] {
    return this.env.reads;
  }

  /** Whether the bundle listed the whole environment (then every variable counts as read). */
  get enumeratedEnv(): boolean {
    return this.env.enumerated;
  }

  /** What the function wrote to stdout and stderr (what Lambda sends to its log group). */
  get logs(): string {
    return this.output;
  }

  /** Ends the execution environment. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }

  private onMessage(m: ChildMessage): void {
    this.env = m.env;
    if (m.type === 'result' || m.type === 'error') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      p.resolve(
        m.type === 'result'
          ? { requestId: m.id, result: m.result, durationMs: m.durationMs }
          : { requestId: m.id, error: m.error, durationMs: m.durationMs },
      );
    } else if (m.type === 'crash') {
      const err = new Error(`${this.fn.logicalId} crashed: ${m.error.name}: ${m.error.message}\n${m.error.stack}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    }
  }
}
