import { beforeEach } from 'vitest';
import { resetClients } from './mocked-clients.ts';

/**
 * A setup file of the project of tests on mocked clients (vitest.config.ts): every test starts
 * from mocks that have forgotten the answers and calls of the test before it, the sessions table's
 * pool empty. A test that starts from another pool or other answers says so in its own
 * `beforeEach`, which runs after this one.
 */
beforeEach(() => resetClients());
