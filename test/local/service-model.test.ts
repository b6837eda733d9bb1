import * as sfnModel from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { AwsServiceError } from '../../local/aws-json.ts';
import { checkRequest, serviceModelOf } from '../../local/service-model.ts';
import { STEP_FUNCTIONS_RULES } from '../../local/stepfunctions/request-rules.ts';

/** Requests checked against the SDK's model and the rules table, without a server. */

const model = serviceModelOf(sfnModel);

function refusal(operation: string, input: Record<string, unknown>): AwsServiceError {
  try {
    checkRequest(model, STEP_FUNCTIONS_RULES, 'AWSStepFunctions', operation, input);
  } catch (error) {
    expect(error).toBeInstanceOf(AwsServiceError);
    return error as AwsServiceError;
  }
  throw new Error(`${operation} was accepted`);
}

describe('Function: serviceModelOf', () => {
  it("reads every operation of the SDK's Step Functions model", () => {
    // Assess
    expect([...model.operations.keys()]).toEqual(
      expect.arrayContaining(['StartExecution', 'ListExecutions', 'RedriveExecution', 'TestState']),
    );
  });

  it('gives the rules only to operations and members the model has', () => {
    // Prepare
    const unknown: string[] = [];

    // Act
    for (const [operation, members] of Object.entries(STEP_FUNCTIONS_RULES)) {
      const shape = model.operations.get(operation);
      if (!shape) {
        unknown.push(operation);
        continue;
      }
      for (const member of Object.keys(members))
        if (!shape().members?.has(member)) unknown.push(`${operation}.${member}`);
    }

    // Assess
    expect(unknown).toEqual([]);
  });
});

describe('Function: checkRequest', () => {
  it('accepts a request within the model', () => {
    // Act & Assess
    expect(() =>
      checkRequest(model, STEP_FUNCTIONS_RULES, 'AWSStepFunctions', 'ListExecutions', {
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:x',
        maxResults: 1000,
        statusFilter: 'RUNNING',
      }),
    ).not.toThrow();
  });

  it('throws UnknownOperationException for a name the model lacks', () => {
    // Act
    const error = refusal('constructor', {});

    // Assess
    expect(error.type).toBe('UnknownOperationException');
  });

  it('lists every violation in one ValidationException', () => {
    // Act
    const error = refusal('GetExecutionHistory', { maxResults: 5000, nextToken: '' });

    // Assess
    expect(error.type).toBe('ValidationException');
    expect(error.message).toBe(
      "3 validation errors detected: Value null at 'executionArn' failed to satisfy constraint: Member must not be null; " +
        "Value '5000' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000; " +
        "Value '' at 'nextToken' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  });

  it('throws SerializationException for a member of the wrong type', () => {
    // Act
    const error = refusal('GetExecutionHistory', { executionArn: 'x', reverseOrder: 'yes' });

    // Assess
    expect(error.type).toBe('SerializationException');
    expect(error.message).toContain('reverseOrder');
  });
});
