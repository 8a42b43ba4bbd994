/**
 * Imported first by every benchmark: the AWS SDK warns on every client that it will need Node.js 22
 * from 2027 (the functions run on nodejs22.x; this machine may not), which would interleave with
 * the figures. Same setting as bin/socialplus-webhooks.mjs and vitest.config.ts.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
