import { randomUUID } from 'node:crypto';
import {
  ActiveSessionsExceededException,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  ListSessionsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-redshift-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONNECTION,
  type DataApiStack,
  type DataApiSuite,
  millisecondsOf,
  rejectionOf,
  startDataApiStack,
} from './context.ts';

/**
 * Sessions, continued: ListSessions' refusals, the limit on open sessions, and keep-alive, the
 * 24-hour cap and ClientToken windows on a clock the test moves (each on a stack of its own).
 */
export function describeSessionLimits(suite: DataApiSuite): void {
  const { validationMessage } = suite;

  describe('ListSessions', () => {
    it('throws ResourceNotFoundException for a session id that never existed', async () => {
      // Prepare
      const sessionId = randomUUID();

      // Act
      const error = await rejectionOf(
        suite.client.send(new ListSessionsCommand({ SessionId: sessionId })),
      );

      // Assess
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect((error as ResourceNotFoundException).ResourceId).toBe(sessionId);
    });

    it('throws ValidationException for SessionId with filters', async () => {
      // Act
      const message = await validationMessage(
        suite.client.send(
          new ListSessionsCommand({
            SessionId: randomUUID(),
            Status: 'AVAILABLE',
            Database: 'dev',
          }),
        ),
      );

      // Assess
      expect(message).toBe('SessionId cannot be combined with Status, Database in ListSessions.');
    });
  });

  describe('with a small session limit', () => {
    let small: DataApiStack;

    beforeAll(async () => {
      small = await startDataApiStack(suite.engine, { maxSessions: 2, loadDemoData: false });
    });

    afterAll(async () => {
      await small?.close();
    });

    it('throws ActiveSessionsExceededException past the limit, until a session closes', async () => {
      // Prepare
      const open = (sql: string) =>
        suite.execute({ Sql: sql, SessionKeepAliveSeconds: 60, WaitTimeSeconds: 20 }, small.client);
      const first = await open('select 1');
      await open('select 2');

      // Act
      const refused = await rejectionOf(open('select 3'));
      const withoutSession = await suite.execute(
        { Sql: 'select 4', WaitTimeSeconds: 20 },
        small.client,
      );
      small.emulator.controls.expireSession(first.SessionId as string);
      const third = await open('select 5');

      // Assess
      expect(refused).toBeInstanceOf(ActiveSessionsExceededException);
      expect(refused.message).toBe(
        'The number of active sessions has reached the limit of 2. Reuse a session or let one expire.',
      );
      expect(withoutSession.Status).toBe('FINISHED');
      expect(third.Status).toBe('FINISHED');
      expect(small.emulator.controls.stats()).toMatchObject({
        sessionsOpened: 3,
        activeSessions: 2,
        sessionLimitRejections: 1,
      });
    });
  });

  describe('with a clock the test moves', () => {
    let timed: DataApiStack;
    let now = Date.UTC(2030, 0, 1);

    beforeAll(async () => {
      timed = await startDataApiStack(suite.engine, { clock: () => now, loadDemoData: false });
    });

    afterAll(async () => {
      await timed?.close();
    });

    const execute = (input: Partial<ExecuteStatementCommandInput>) =>
      timed.client.send(
        new ExecuteStatementCommand({
          Sql: 'select 1',
          WaitTimeSeconds: 20,
          ...input,
        } as ExecuteStatementCommandInput),
      );

    it('counts the keep-alive from the end of the last statement', async () => {
      // Prepare
      const opened = await execute({ ...CONNECTION, SessionKeepAliveSeconds: 60 });
      const sessionId = opened.SessionId as string;

      // Act
      now += 59_000;
      const second = await execute({ SessionId: sessionId });
      now += 59_000;
      const third = await execute({ SessionId: sessionId });
      now += 61_000;
      const message = await validationMessage(execute({ SessionId: sessionId }));
      const listed = await timed.client.send(new ListSessionsCommand({ SessionId: sessionId }));

      // Assess
      expect(second.Status).toBe('FINISHED');
      expect(third.Status).toBe('FINISHED');
      expect(message).toBe('Session is not available');
      expect(listed.Sessions?.[0]?.Status).toBe('CLOSED');
    });

    it('closes a session 24 hours after it opened, whatever its keep-alive', async () => {
      // Prepare
      const opened = await execute({ ...CONNECTION, SessionKeepAliveSeconds: 86400 });
      const sessionId = opened.SessionId as string;

      // Act
      now += 12 * 3600_000;
      const halfway = await execute({ SessionId: sessionId });
      const listed = await timed.client.send(new ListSessionsCommand({ SessionId: sessionId }));
      now += 12 * 3600_000;
      const message = await validationMessage(execute({ SessionId: sessionId }));

      // Assess: the TTL is the 24-hour cap, not 86400 s after the last statement.
      const [session] = listed.Sessions ?? [];
      expect(millisecondsOf(session?.SessionTtl)).toBe(
        millisecondsOf(session?.CreatedAt) + 24 * 3600_000,
      );
      expect(halfway.Status).toBe('FINISHED');
      expect(message).toBe('Session is not available');
    });

    it('forgets a ClientToken after 8 hours', async () => {
      // Prepare
      const token = randomUUID();
      const first = await execute({ ...CONNECTION, ClientToken: token });

      // Act
      now += 8 * 3600_000 - 1000;
      const within = await execute({ ...CONNECTION, ClientToken: token });
      now += 2000;
      const after = await execute({ ...CONNECTION, ClientToken: token });

      // Assess
      expect(within.Id).toBe(first.Id);
      expect(after.Id).not.toBe(first.Id);
    });
  });
}
