// A local-mode emulator in its own process (see emulator-process.ts). Plain JavaScript: it registers
// the TypeScript loader (tsx) itself, as bin/socialplus-webhooks.mjs does, then runs the TypeScript entry.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('./emulator-process-main.ts');
