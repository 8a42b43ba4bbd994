/**
 * A stand-in for an AWS SDK v3 client where no emulator exists (SQS, Firehose, Secrets Manager):
 * an object with `send()` that records each command and answers through a test-supplied function.
 * (`aws-sdk-client-mock` is not a dependency; this covers what the adapter tests need.)
 */
export interface RecordedCommand {
  /** The command class name, e.g. `PutRecordBatchCommand`. */
  readonly name: string;
  readonly input: Record<string, unknown>;
  /** The per-call options given to `send` (e.g. `abortSignal`), if any. */
  readonly options?: Record<string, unknown>;
}

export type Responder = (command: RecordedCommand, callIndex: number) => unknown;

export class FakeAwsClient {
  readonly commands: RecordedCommand[] = [];

  constructor(private readonly respond: Responder = () => ({})) {}

  async send(command: { constructor: { name: string }; input: unknown }, options?: Record<string, unknown>): Promise<unknown> {
    const recorded = { name: command.constructor.name, input: command.input as Record<string, unknown>, ...(options ? { options } : {}) };
    this.commands.push(recorded);
    return this.respond(recorded, this.commands.length - 1);
  }

  /** Casts to the SDK client type an adapter's constructor expects. */
  as<T>(): T {
    return this as unknown as T;
  }
}

/** An error shaped like the SDK's service exceptions (matched by `name`). */
export function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });
}
