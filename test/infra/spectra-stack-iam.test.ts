import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/registry.ts';
import {
  logicalIdOf,
  policyStatements,
  render,
  statementsAllowing,
  synthesizeSpectraStack,
} from './synth.ts';

/**
 * The synthesized SpectraStack's IAM: each role allows what its functions' bundles call, and no more.
 */

// GIVEN a deployment on a provisioned cluster with per-tenant database users (synthesized once for
// the whole file: every test below reads the same template)
const { stack, template, functionResource } = synthesizeSpectraStack();

/** lib-dynamodb commands whose IAM action ends in "Item" (GetCommand is dynamodb:GetItem). */
const DYNAMODB_ITEM_COMMANDS = new Set([
  'Get',
  'Put',
  'Update',
  'Delete',
  'BatchGet',
  'BatchWrite',
]);

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The project's source files in a function's bundle, as esbuild resolves its imports: what the
 * function can call, and nothing another function pulls in.
 */
async function sourcesOf(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: repoRoot,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    outdir: 'out',
    // Dependencies are not read: only the project's files name the SDK commands it sends.
    packages: 'external',
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

/**
 * The IAM actions of the AWS calls made through one SDK package in `files`: the commands and
 * paginators they import from it (Biome refuses unused imports, so an import is a call).
 */
function awsCallsIn(
  files: Iterable<string>,
  sdkPackage: string,
  actionOf: (command: string) => string,
): Set<string> {
  const imports = new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*'${sdkPackage}'`, 'g');
  const actions = new Set<string>();
  for (const file of files) {
    const source = readFileSync(join(repoRoot, file), 'utf8');
    for (const [, names = ''] of source.matchAll(imports)) {
      for (const name of names.split(',').map((entry) => entry.trim())) {
        const command = /^(?:(\w+)Command|paginate(\w+))$/.exec(name);
        const call = command?.[1] ?? command?.[2];
        if (call !== undefined) actions.add(actionOf(call));
      }
    }
  }
  return actions;
}

const dynamodbAction = (command: string) =>
  DYNAMODB_ITEM_COMMANDS.has(command) ? `dynamodb:${command}Item` : `dynamodb:${command}`;
const redshiftDataAction = (command: string) => `redshift-data:${command}`;

describe('Stack: SpectraStack', () => {
  describe('IAM', () => {
    const dataApiRoleId = logicalIdOf(stack.dataApiRole);
    /** The source files of each function's bundle, by function name. */
    const sources = new Map<string, string[]>();
    beforeAll(async () => {
      for (const fn of FUNCTIONS) sources.set(fn.name, await sourcesOf(fn.entry));
    });

    /** The source files of every function that runs as `role`. */
    function sourcesOfRole(role: IRole): Set<string> {
      const arn = `<${logicalIdOf(role)}.Arn>`;
      const files = new Set<string>();
      for (const fn of FUNCTIONS) {
        if (render(functionResource(fn.name).Properties.Role) !== arn) continue;
        for (const file of sources.get(fn.name) ?? []) files.add(file);
      }
      return files;
    }

    it('runs every Data API caller as one role, and the others as a role without Data API access', () => {
      // THEN SubmitQuery, PollStatus, FetchResults and CancelStoppedExecution share the Data API role
      for (const name of ['SubmitQuery', 'PollStatus', 'FetchResults', 'CancelStoppedExecution']) {
        expect(render(functionResource(name).Properties.Role)).toBe(`<${dataApiRoleId}.Arn>`);
      }
      // AND no other role may touch the Data API
      const dataApiStatements = policyStatements(template).filter((entry) =>
        entry.actions.some((action) => action.startsWith('redshift')),
      );
      expect(dataApiStatements.length).toBeGreaterThan(0);
      for (const entry of dataApiStatements) expect(entry.roles).toEqual([dataApiRoleId]);
    });

    it('never grants ExecuteStatement or a DynamoDB action on "*"', () => {
      // WHEN the statements for ExecuteStatement and DynamoDB are collected
      const scoped = policyStatements(template).filter((entry) =>
        entry.actions.some(
          (action) => action === 'redshift-data:ExecuteStatement' || action.startsWith('dynamodb:'),
        ),
      );
      // THEN each names resources, never "*"
      expect(scoped.length).toBeGreaterThan(0);
      for (const entry of scoped) {
        for (const resource of entry.resources) expect(render(resource)).not.toBe('*');
      }
      expect(
        statementsAllowing(template, 'redshift-data:ExecuteStatement')[0]?.resources.map(render),
      ).toEqual(['arn:<AWS::Partition>:redshift:<AWS::Region>:<AWS::AccountId>:cluster:analytics']);
    });

    it("grants each role exactly the DynamoDB actions its functions' code calls, on the table only", () => {
      // GIVEN the table's ARN
      const tableArn = `<${logicalIdOf(stack.table)}.Arn>`;
      const dynamo = policyStatements(template).filter((entry) =>
        entry.actions.some((action) => action.startsWith('dynamodb:')),
      );
      for (const role of [stack.dataApiRole, stack.sessionStoreRole]) {
        // WHEN the DynamoDB calls in the code of the role's functions are collected
        const used = awsCallsIn(sourcesOfRole(role), '@aws-sdk/lib-dynamodb', dynamodbAction);
        expect(used).toContain('dynamodb:Query');
        // THEN the role is granted those actions, on the table and nothing else
        const granted = dynamo.filter((entry) => entry.roles.includes(logicalIdOf(role)));
        expect(new Set(granted.flatMap((entry) => entry.actions))).toEqual(used);
        for (const entry of granted) expect(entry.resources.map(render)).toEqual([tableArn]);
      }
    });

    it('grants the Scan of the scheduled clean-up to its role only', () => {
      // THEN only SessionStoreRole (CleanupSessions) may scan the table
      const scanning = statementsAllowing(template, 'dynamodb:Scan').flatMap((e) => e.roles);
      expect(scanning).toEqual([logicalIdOf(stack.sessionStoreRole)]);
      expect(sourcesOfRole(stack.dataApiRole)).not.toContain('functions/common/session-sweeper.ts');
    });

    it("grants the Data API role exactly the Data API actions its functions' code calls", () => {
      // GIVEN the Data API calls in the code of the Data API role's functions (the other role's
      // functions bundle the Data API wrapper through their deps, but have no grant to use it)
      const used = awsCallsIn(
        sourcesOfRole(stack.dataApiRole),
        '@aws-sdk/client-redshift-data',
        redshiftDataAction,
      );
      expect(used).toContain('redshift-data:ExecuteStatement');
      // WHEN the granted Data API actions are collected
      const granted = new Set(
        policyStatements(template)
          .flatMap((entry) => entry.actions)
          .filter((action) => action.startsWith('redshift-data:')),
      );
      // THEN they are the same, no more
      expect(granted).toEqual(used);
    });

    it('lets the role read and cancel only statements the role itself ran', () => {
      // THEN the statement-id actions carry the statement-owner condition on this role's id
      const [entry] = statementsAllowing(template, 'redshift-data:DescribeStatement');
      expect(entry?.actions.sort()).toEqual([
        'redshift-data:CancelStatement',
        'redshift-data:DescribeStatement',
        'redshift-data:GetStatementResult',
      ]);
      expect(
        render(
          entry?.statement.Condition?.StringLike?.['redshift-data:statement-owner-iam-userid'],
        ),
      ).toBe(`<${dataApiRoleId}.RoleId>:*`);
    });

    it("gets temporary credentials only for the tenants' database users of this cluster", () => {
      const [entry] = statementsAllowing(template, 'redshift:GetClusterCredentials');
      expect(entry?.resources.map(render)).toEqual([
        'arn:<AWS::Partition>:redshift:<AWS::Region>:<AWS::AccountId>:dbuser:analytics/tenant_*',
        'arn:<AWS::Partition>:redshift:<AWS::Region>:<AWS::AccountId>:dbname:analytics/dev',
      ]);
      expect(statementsAllowing(template, 'secretsmanager:GetSecretValue')).toEqual([]);
    });

    it("lets CancelStoppedExecution read the history of this state machine's executions only", () => {
      const [entry] = statementsAllowing(template, 'states:GetExecutionHistory');
      expect(entry?.roles).toEqual([dataApiRoleId]);
      expect(entry?.resources.map(render)).toEqual([
        `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${logicalIdOf(stack.stateMachine)}.Name>:*`,
      ]);
    });

    it('attaches no AWS managed policy to any role', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });
});
