// Worker threads do not inherit the parent's TypeScript loader (see
// local/redshift-data/pglite-worker-bootstrap.mjs), so the functions' worker registers tsx itself
// and then loads the TypeScript worker. Works under `npx tsx`, vitest and plain node.
import { tsImport } from 'tsx/esm/api';

await tsImport('./function-worker.ts', import.meta.url);
