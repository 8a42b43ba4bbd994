/**
 * The extension point: every handler the fan-out dispatches to, registered here in one list.
 * Add a module next to this file that default-exports `defineHandler({...})` and list it below.
 */
import { assertUniqueHandlerNames, type WebhookHandler } from '../../core/define-handler.js';
import flaggedContentLog from './flagged-content-log.js';

export const handlers: readonly WebhookHandler[] = [flaggedContentLog];

assertUniqueHandlerNames(handlers);
