import { useThrowawayPostgres } from '../support/postgres.ts';
import { describeTenantBoundarySuite } from './tenant-boundary-suite.ts';

describeTenantBoundarySuite('PostgreSQL', useThrowawayPostgres());
