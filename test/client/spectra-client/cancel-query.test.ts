import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { sfn } from '../../support/mocked-clients.ts';
import * as fx from './fixtures.ts';

/**
 * SpectraClient.cancelQuery against mocked Step Functions: stopping a running query, and a query
 * that already ended.
 */

describe('Class: SpectraClient', () => {
  describe('Method: cancelQuery', () => {
    it('stops a running query with the reason given', async () => {
      // Prepare
      sfn
        .on(DescribeExecutionCommand)
        .resolvesOnce({ status: 'RUNNING' })
        .resolves({ status: 'ABORTED' });
      sfn.on(StopExecutionCommand).resolves({ stopDate: fx.STOPPED });

      // Act
      const cancelled = await fx.newClient().cancelQuery(fx.EXECUTION_ARN, { cause: 'not needed' });

      // Assess
      expect(cancelled).toEqual({
        executionArn: fx.EXECUTION_ARN,
        status: 'ABORTED',
        stopped: true,
      });
      expect(sfn).toReceiveCommandWith(StopExecutionCommand, {
        executionArn: fx.EXECUTION_ARN,
        cause: 'not needed',
      });
    });

    it('stops nothing when the query already ended', async () => {
      // Prepare
      sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

      // Act
      const cancelled = await fx.newClient().cancelQuery(fx.EXECUTION_ARN);

      // Assess
      expect(cancelled).toEqual({
        executionArn: fx.EXECUTION_ARN,
        status: 'SUCCEEDED',
        stopped: false,
      });
      expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
    });
  });
});
