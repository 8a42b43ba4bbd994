import { ENV } from '../../common/env.js';

/**
 * The environment variables the handlers read (their names and pairing grants are documented in
 * `ENV`, `lambda/common/env.ts`). Read only in `from-env.ts`, at cold start.
 */
export const HANDLER_ENV = {
  HANDLERS_CONFIG: ENV.HANDLERS_CONFIG,
  HANDLER_STATE_TABLE_NAME: ENV.HANDLER_STATE_TABLE_NAME,
  EVENT_BUS_NAME: ENV.EVENT_BUS_NAME,
  SOCIALPLUS_API_SECRET_ARN: ENV.SOCIALPLUS_API_SECRET_ARN,
  SOCIALPLUS_ADMIN_TOKEN: ENV.SOCIALPLUS_ADMIN_TOKEN,
} as const;

/** What the Social Plus API secret holds until the user pastes the admin token (the stack creates it with this). */
export const SOCIALPLUS_API_SECRET_PLACEHOLDER = 'REPLACE_WITH_SOCIALPLUS_ADMIN_TOKEN';
