import { describeSessionHygieneSuite } from './session-hygiene-suite.ts';

describeSessionHygieneSuite('PGlite', () => undefined);
