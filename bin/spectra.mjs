#!/usr/bin/env node
// The `spectra` command. The repository runs TypeScript without a build step, so this launcher
// registers tsx's loader, then runs the CLI's source on this process's arguments and streams.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();

// `spectra results … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const { main } = await import('../client/cli.ts');
process.exitCode = await main(process.argv.slice(2));
