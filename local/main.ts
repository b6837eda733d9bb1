import { LOCAL_REGION } from './identity.ts';
import { startLocalStack } from './stack.ts';

/**
 * `npm start`: runs the local stack in the foreground until Ctrl+C (SIGINT) or SIGTERM.
 */
const started = Date.now();
const stack = await startLocalStack().catch((error: unknown) => {
  console.error(
    `The local stack did not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const engine =
  stack.engineKind === 'pglite'
    ? 'PGlite, embedded'
    : stack.ownCluster
      ? 'PostgreSQL, a throwaway cluster (SPECTRA_LOCAL_ENGINE=postgres)'
      : 'PostgreSQL (SPECTRA_LOCAL_DATABASE_URL)';
const input = JSON.stringify({ tenantId: 'acme', sql: 'select count(*) as sales from sales' });

console.log(`Spectra local stack is ready in ${seconds} s (SQL engine: ${engine})

  Endpoint        ${stack.url}   (Redshift Data API, Step Functions and DynamoDB)
  Console         ${stack.consoleUrl}   (executions, their graph and events, the session pools)
  State machine   ${stack.stateMachineArn}
  Functions       ${stack.functionThreads > 0 ? `on ${stack.functionThreads} worker threads (SPECTRA_LOCAL_FUNCTION_THREADS)` : 'in process (SPECTRA_LOCAL_FUNCTION_THREADS=2 runs them on threads)'}
  Sessions table  ${process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME}
  Demo tenants    acme, globex, initech, umbrella (each sees only its own sales and listing rows)
  New tenant      npm run create-db-user -- <tenant id>   (creates its database user)

Try it from another terminal:

  export AWS_ENDPOINT_URL=${stack.url} AWS_REGION=${LOCAL_REGION} AWS_DEFAULT_REGION=${LOCAL_REGION} \\
    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  aws stepfunctions start-execution --state-machine-arn ${stack.stateMachineArn} \\
    --input '${input}'
  aws stepfunctions describe-execution --execution-arn <executionArn printed above>

Press Ctrl+C to stop.`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local stack…`);
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
