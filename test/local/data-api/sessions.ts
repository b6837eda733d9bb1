import { randomUUID } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  ListSessionsCommand,
} from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import { CONNECTION, type DataApiSuite, demoUserOf, millisecondsOf, UUID } from './context.ts';
import { describeSessionLimits } from './session-limits.ts';

/** Sessions: opening, reusing, busy, expired and closed sessions (their limits: session-limits.ts). */
export function describeSessions(suite: DataApiSuite): void {
  const { ended, untilStatus, rowsOf, validationMessage, run } = suite;

  describe('Sessions', () => {
    async function openSession(input: Partial<ExecuteStatementCommandInput> = {}) {
      const response = await suite.execute({
        Sql: 'select 1',
        SessionKeepAliveSeconds: 600,
        WaitTimeSeconds: 20,
        ...input,
      });
      expect(response.Status).toBe('FINISHED');
      return response;
    }

    /** A session of its own, running a statement held until `held.release()`. */
    async function sessionRunningAHeldStatement() {
      const sessionId = (await openSession()).SessionId as string;
      const held = suite.holdStatements();
      const running = await suite.client.send(
        new ExecuteStatementCommand({ Sql: held.sql(), SessionId: sessionId }),
      );
      return { sessionId, held, statementId: running.Id as string };
    }

    it('opens a session with SessionKeepAliveSeconds and runs later statements on it', async () => {
      // Act
      const opened = await openSession({
        Sql: `create temp table ${run}_scratch as select 5 as x`,
      });
      const sessionId = opened.SessionId as string;
      const reused = await suite.client.send(
        new ExecuteStatementCommand({
          Sql: `select x, current_user from ${run}_scratch`,
          SessionId: sessionId,
          WaitTimeSeconds: 20,
        }),
      );
      const described = await suite.client.send(new DescribeStatementCommand({ Id: reused.Id }));
      const rows = await rowsOf(reused.Id as string);

      // Assess
      expect(sessionId).toMatch(UUID);
      expect(reused.SessionId).toBe(sessionId);
      expect(described.SessionId).toBe(sessionId);
      expect(reused.RedshiftPid).toBe(opened.RedshiftPid);
      expect(reused).toMatchObject({
        DbUser: demoUserOf('acme'),
        Database: 'dev',
        ClusterIdentifier: 'spectra-local',
      });
      expect(rows).toEqual([[5, demoUserOf('acme')]]);
    });

    it('lists an open session as AVAILABLE with its keep-alive and expiry', async () => {
      // Prepare
      const opened = await openSession({ SessionKeepAliveSeconds: 900 });

      // Act
      const listed = await suite.client.send(new ListSessionsCommand({}));
      const session = listed.Sessions?.find((each) => each.SessionId === opened.SessionId);

      // Assess
      expect(session).toMatchObject({
        Status: 'AVAILABLE',
        DbUser: demoUserOf('acme'),
        Database: 'dev',
        ClusterIdentifier: 'spectra-local',
        SessionAliveSeconds: 900,
      });
      expect(session?.CurrentStatementId).toBeUndefined();
      expect(millisecondsOf(session?.SessionTtl)).toBeGreaterThan(
        millisecondsOf(session?.CreatedAt),
      );
      expect(suite.stack.emulator.controls.listSessionIds()).toContain(opened.SessionId);
    });

    it('refuses a second statement while the session runs one, and lists it BUSY', async () => {
      // Prepare
      const { sessionId, held, statementId } = await sessionRunningAHeldStatement();
      const rejectedBefore = suite.stack.emulator.controls.stats().busyRejections;

      // Act
      const message = await validationMessage(
        suite.client.send(new ExecuteStatementCommand({ Sql: 'select 2', SessionId: sessionId })),
      );
      const whileBusy = await suite.client.send(new ListSessionsCommand({ SessionId: sessionId }));
      held.release();
      await ended(statementId);
      const afterwards = await suite.client.send(
        new ExecuteStatementCommand({
          Sql: 'select 3',
          SessionId: sessionId,
          WaitTimeSeconds: 20,
        }),
      );

      // Assess
      expect(message).toBe('Session is not available');
      expect(suite.stack.emulator.controls.stats().busyRejections).toBe(rejectedBefore + 1);
      expect(whileBusy.Sessions?.[0]).toMatchObject({
        Status: 'BUSY',
        CurrentStatementId: statementId,
      });
      expect(afterwards.Status).toBe('FINISHED');
    });

    it('refuses a session that was expired, and lists it CLOSED', async () => {
      // Prepare
      const opened = await openSession();
      const sessionId = opened.SessionId as string;

      // Act
      const expired = suite.stack.emulator.controls.expireSession(sessionId);
      const message = await validationMessage(
        suite.client.send(new ExecuteStatementCommand({ Sql: 'select 1', SessionId: sessionId })),
      );
      const listed = await suite.client.send(new ListSessionsCommand({ SessionId: sessionId }));
      const open = await suite.client.send(new ListSessionsCommand({}));
      const closedOnes = await suite.client.send(new ListSessionsCommand({ Status: 'CLOSED' }));

      // Assess
      expect(expired).toBe(true);
      expect(suite.stack.emulator.controls.expireSession(sessionId)).toBe(false);
      expect(message).toBe('Session is not available');
      expect(listed.Sessions?.[0]?.Status).toBe('CLOSED');
      expect(open.Sessions?.map((each) => each.SessionId)).not.toContain(sessionId);
      expect(closedOnes.Sessions?.map((each) => each.SessionId)).toContain(sessionId);
      expect(suite.stack.emulator.controls.listSessionIds()).not.toContain(sessionId);
    });

    it('fails the running statement when its session is expired', async () => {
      // Prepare
      const { sessionId, held, statementId } = await sessionRunningAHeldStatement();
      await untilStatus(statementId, ['STARTED']);

      // Act
      suite.stack.emulator.controls.expireSession(sessionId);
      const described = await ended(statementId);
      held.release();

      // Assess
      expect(described.Status).toBe('FAILED');
      expect(described.Error).toMatch(new RegExp(`^ERROR: The session ${sessionId} was closed`));
    });

    it('throws ValidationException naming a session id that never existed', async () => {
      // Prepare
      const sessionId = randomUUID();

      // Act
      const message = await validationMessage(
        suite.client.send(new ExecuteStatementCommand({ Sql: 'select 1', SessionId: sessionId })),
      );

      // Assess
      expect(message).toBe(`Session with Id: ${sessionId} is invalid`);
    });

    it('throws ValidationException for connection fields sent with a SessionId', async () => {
      // Prepare
      const opened = await openSession();

      // Act
      const message = await validationMessage(
        suite.execute({ Sql: 'select 1', SessionId: opened.SessionId }),
      );

      // Assess
      expect(message).toBe(
        'SessionId cannot be combined with ClusterIdentifier, Database, DbUser: a session keeps the cluster or workgroup, database and user it was opened with. Send only Sql and SessionId (plus statement options).',
      );
    });

    it('opens a session for a batch and runs a batch on an open session', async () => {
      // Prepare
      const opened = await suite.client.send(
        new BatchExecuteStatementCommand({
          ...CONNECTION,
          Sqls: ['select 1', 'select 2'],
          SessionKeepAliveSeconds: 300,
          WaitTimeSeconds: 20,
        }),
      );

      // Act
      const reused = await suite.client.send(
        new BatchExecuteStatementCommand({
          Sqls: ['select 3'],
          SessionId: opened.SessionId,
          WaitTimeSeconds: 20,
        }),
      );

      // Assess
      expect(opened.SessionId).toMatch(UUID);
      expect(reused).toMatchObject({ SessionId: opened.SessionId, Status: 'FINISHED' });
    });

    it('keeps the session BUSY while a new session opens, then runs the statement', async () => {
      // Prepare: the statement waits, PICKED, before its session's connection opens
      const openedBefore = suite.stack.emulator.controls.stats().sessionsOpened;
      const held = suite.holdStatements('PICKED');

      // Act: the long poll ends before the session has opened.
      const response = await suite.execute({
        Sql: held.sql(),
        SessionKeepAliveSeconds: 60,
        WaitTimeSeconds: 1,
      });
      const listed = await suite.client.send(
        new ListSessionsCommand({ SessionId: response.SessionId }),
      );
      held.release();
      const described = await ended(response.Id as string);

      // Assess
      expect(response.Status).toBe('PICKED');
      expect(listed.Sessions?.[0]?.Status).toBe('BUSY');
      expect(described.Status).toBe('FINISHED');
      expect(suite.stack.emulator.controls.stats().sessionsOpened).toBe(openedBefore + 1);
    });

    it('opens a session only after the latency the controls add', async () => {
      // Prepare
      suite.stack.emulator.controls.setConnectLatency(1500);

      try {
        // Act: the long poll's timer (1 s) fires before the latency's (1.5 s, set after it).
        const response = await suite.execute({
          Sql: 'select 1',
          SessionKeepAliveSeconds: 60,
          WaitTimeSeconds: 1,
        });
        const described = await ended(response.Id as string);

        // Assess
        expect(response.Status).toBe('PICKED');
        expect(described.Status).toBe('FINISHED');
      } finally {
        suite.stack.emulator.controls.setConnectLatency(0);
      }
    });

    it('connects a statement without a session after the same latency', async () => {
      // Prepare
      suite.stack.emulator.controls.setConnectLatency(1500);

      try {
        // Act: no SessionKeepAliveSeconds, so the statement connects for itself.
        const response = await suite.execute({ Sql: 'select 1', WaitTimeSeconds: 1 });
        const described = await ended(response.Id as string);

        // Assess
        expect(response.SessionId).toBeUndefined();
        expect(response.Status).toBe('PICKED');
        expect(described.Status).toBe('FINISHED');
      } finally {
        suite.stack.emulator.controls.setConnectLatency(0);
      }
    });

    it("runs a session's later statements without the connect latency", async () => {
      // Prepare: a latency far longer than the long poll below.
      const sessionId = (await openSession()).SessionId as string;
      suite.stack.emulator.controls.setConnectLatency(600_000);

      try {
        // Act
        const response = await suite.client.send(
          new ExecuteStatementCommand({
            Sql: 'select 1',
            SessionId: sessionId,
            WaitTimeSeconds: 20,
          }),
        );

        // Assess
        expect(response.Status).toBe('FINISHED');
      } finally {
        suite.stack.emulator.controls.setConnectLatency(0);
      }
    });

    describeSessionLimits(suite);
  });
}
