// Worker threads do not inherit the parent's TypeScript loader (vitest's transform pipeline lives
// in the parent; tsx's hooks are per thread), so the worker registers tsx itself, scoped to this
// import, and then loads the TypeScript worker. Works under `npx tsx`, vitest and plain node.
import { tsImport } from 'tsx/esm/api';

await tsImport('./pglite-worker.ts', import.meta.url);
