#!/usr/bin/env node
// The `spectra` command. The repository runs TypeScript without a build step, so this launcher
// registers tsx's loader and then loads the CLI's source.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
await import('../client/cli.ts');
