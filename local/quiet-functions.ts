/**
 * What the functions need to run quietly inside another program (the tests, the demo, the chaos
 * run, an experiment): their JSON logs and EMF metrics would bury that program's own output, and
 * the SDK's notice about the Node.js version would repeat in every process.
 */
const QUIET = {
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/**
 * Sets each of those variables that is not set yet, so a caller's own choice (a TRACE log level
 * to debug, say) still wins. Call it before the functions load: they read it on load.
 */
export function quietInProcessFunctions(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(QUIET)) env[name] ??= value;
}
