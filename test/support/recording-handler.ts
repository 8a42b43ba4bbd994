import { defineHandler, type HandlerContext, type WebhookEnvelope, type WebhookHandler } from '../../lambda/core/define-handler.js';

/** One call a recording handler received. */
export interface Call {
  readonly handler: string;
  readonly event: WebhookEnvelope;
  readonly ctx: HandlerContext;
}

/** A handler that records its calls in `calls` and can be told to throw for some events. */
export function recordingHandler(
  name: string,
  events: string[],
  calls: Call[],
  failFor: (ctx: HandlerContext) => boolean = () => false,
): WebhookHandler {
  return defineHandler({
    name,
    events,
    handle(event, ctx) {
      calls.push({ handler: name, event, ctx });
      if (failFor(ctx)) throw new Error(`${name} failed on purpose`);
    },
  });
}
