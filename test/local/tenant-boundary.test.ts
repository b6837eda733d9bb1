import { describeTenantBoundarySuite } from './tenant-boundary-suite.ts';

describeTenantBoundarySuite('PGlite', () => undefined);
