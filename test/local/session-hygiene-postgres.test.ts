import { useThrowawayPostgres } from '../support/postgres.ts';
import { describeSessionHygieneSuite } from './session-hygiene-suite.ts';

describeSessionHygieneSuite('PostgreSQL', useThrowawayPostgres());
