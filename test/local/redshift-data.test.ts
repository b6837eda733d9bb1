import { createPgliteEngine } from '../../local/redshift-data/pglite-engine.ts';
import { describeDataApiSuite } from './data-api-suite.ts';

/** The Data API emulator on its default engine: PGlite in a worker thread. */
describeDataApiSuite('PGlite', createPgliteEngine);
