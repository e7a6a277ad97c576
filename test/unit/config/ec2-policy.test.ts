/**
 * config/iam/ec2-policy.json, read as IAM reads it: every EC2 action the operator calls is allowed, creates
 * only in the cluster's VPC and only with our request tags, tags written only at creation or on ENIs already
 * ours, and every change to an existing ENI only on ENIs tagged ours, for this cluster, in this VPC. The small
 * evaluator below implements the part of IAM's policy logic the file uses (Allow statements, wildcard
 * actions and resources, StringEquals and ArnLike, a condition on a key absent from the request fails).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { ENI_OWNER, TAG } from '../../../operator/api/constants.ts';
import { branchEniTags, trunkEniTags } from '../../../operator/aws/index.ts';
import { EC2_BUCKETS } from '../../../operator/option-definitions.ts';

const VPC = 'vpc-0cluster0000000001';
const CLUSTER = 'prod-eu';
const raw = readFileSync(new URL('../../../config/iam/ec2-policy.json', import.meta.url), 'utf8');

interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
/** The policy as installed: its two placeholders filled in (config/iam/README.md: envsubst). */
const policy = JSON.parse(raw.replaceAll('${VPC_ID}', VPC).replaceAll('${CLUSTER_NAME}', CLUSTER)) as {
  Statement: Statement[];
};

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
const glob = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^$()|[\]\\{}]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** One request as IAM evaluates it: the action, one resource ARN and the condition keys it carries. */
interface Request {
  action: string;
  resource: string;
  context: Record<string, string>;
}

function conditionHolds(operator: string, key: string, expected: string | string[], context: Record<string, string>) {
  const actual = context[key];
  if (actual === undefined) return false;
  switch (operator) {
    case 'StringEquals':
      return list(expected).includes(actual);
    case 'ArnLike':
      return list(expected).some((pattern) => glob(pattern).test(actual));
    default:
      throw new Error(`the evaluator does not know condition operator ${operator}; extend it with the policy`);
  }
}

function isAllowed(request: Request): boolean {
  return policy.Statement.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      list(statement.Action).some((action) => glob(action).test(request.action)) &&
      list(statement.Resource).some((resource) => glob(resource).test(request.resource)) &&
      Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
        Object.entries(keys).every(([key, expected]) => conditionHolds(operator, key, expected, request.context)),
      ),
  );
}

const arn = (type: string, id: string) => `arn:aws:ec2:eu-west-1:111122223333:${type}/${id}`;
const inVpc = (vpcId = VPC) => ({ 'ec2:Vpc': arn('vpc', vpcId) });
const requestTags = (tags: Record<string, string>) =>
  Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value]));
const resourceTags = (tags: Record<string, string>) =>
  Object.fromEntries(Object.entries(tags).map(([key, value]) => [`ec2:ResourceTag/${key}`, value]));
const ours = { [TAG.owner]: ENI_OWNER, [TAG.clusterName]: CLUSTER };
const EKS_OWNER = 'eks-vpc-resource-controller';
/** The tags EKS's controller puts on the branch ENIs it creates, which adoption (branchinterface/adopt.ts) retags. */
const eks = { [TAG.owner]: EKS_OWNER, [`${TAG.clusterOwnedPrefix}${CLUSTER}`]: 'owned' };

describe('config/iam/ec2-policy.json', () => {
  test('has exactly the two placeholders the README says to fill in', () => {
    expect([...new Set(raw.match(/\$\{[^}]*\}/g))].sort()).toEqual(['${CLUSTER_NAME}', '${VPC_ID}']);
  });

  test('allows every EC2 action the operator calls (one rate-limit bucket per action)', () => {
    const actions = EC2_BUCKETS.map((bucket) => bucket.name).filter((name) => name !== 'UnfilteredDescribe');
    const granted = new Set(policy.Statement.flatMap((statement) => list(statement.Action)));
    expect(actions.filter((action) => !granted.has(`ec2:${action}`))).toEqual([]);
  });

  test('the tags the operator writes at creation are the ones the create conditions require', () => {
    const branch = branchEniTags({
      clusterName: CLUSTER,
      instanceId: 'i-1',
      nodeName: 'n',
      trunkEniId: 'eni-t',
      vlanId: 1,
      podNamespace: 'shop',
      podName: 'web-0',
      podUid: 'u',
    });
    const trunk = trunkEniTags({ clusterName: CLUSTER, instanceId: 'i-1', nodeName: 'n' });
    for (const tags of [branch, trunk]) {
      expect(isAllowed({ action: 'ec2:CreateNetworkInterface', resource: arn('network-interface', '*'), context: { ...inVpc(), ...requestTags(tags) } })).toBe(true);
      expect(isAllowed({ action: 'ec2:CreateTags', resource: arn('network-interface', '*'), context: { 'ec2:CreateAction': 'CreateNetworkInterface', ...requestTags(tags) } })).toBe(true);
    }
  });

  const eni = arn('network-interface', 'eni-0123456789abcdef0');
  test.each<[string, Request, boolean]>([
    // CreateNetworkInterface is authorized on the new ENI and on the subnet and groups it uses.
    ['create: our tags, cluster VPC', { action: 'ec2:CreateNetworkInterface', resource: eni, context: { ...inVpc(), ...requestTags(ours) } }, true],
    ['create: our tags, another VPC', { action: 'ec2:CreateNetworkInterface', resource: eni, context: { ...inVpc('vpc-0other'), ...requestTags(ours) } }, false],
    ['create: no owner request tag', { action: 'ec2:CreateNetworkInterface', resource: eni, context: { ...inVpc(), ...requestTags({ [TAG.clusterName]: CLUSTER }) } }, false],
    ['create: another cluster’s tag', { action: 'ec2:CreateNetworkInterface', resource: eni, context: { ...inVpc(), ...requestTags({ ...ours, [TAG.clusterName]: 'other' }) } }, false],
    ['create: subnet of the cluster VPC', { action: 'ec2:CreateNetworkInterface', resource: arn('subnet', 'subnet-1'), context: inVpc() }, true],
    ['create: subnet of another VPC', { action: 'ec2:CreateNetworkInterface', resource: arn('subnet', 'subnet-2'), context: inVpc('vpc-0other') }, false],
    ['create: group of another VPC', { action: 'ec2:CreateNetworkInterface', resource: arn('security-group', 'sg-1'), context: inVpc('vpc-0other') }, false],
    // Tags: at creation, or on ENIs already ours; never make a foreign ENI ours.
    ['tag a foreign ENI as ours', { action: 'ec2:CreateTags', resource: eni, context: { ...inVpc(), ...requestTags(ours) } }, false],
    ['tag our ENI', { action: 'ec2:CreateTags', resource: eni, context: { ...inVpc(), ...resourceTags(ours) } }, true],
    // Adoption from EKS's controller: only its branch ENIs of this cluster in this VPC, only retagged as ours.
    ['adopt an EKS branch ENI of this cluster', { action: 'ec2:CreateTags', resource: eni, context: { ...inVpc(), ...resourceTags(eks), ...requestTags(ours) } }, true],
    ['adopt an EKS ENI of another cluster', { action: 'ec2:CreateTags', resource: eni, context: { ...inVpc(), ...resourceTags({ [TAG.owner]: EKS_OWNER, [`${TAG.clusterOwnedPrefix}other`]: 'owned' }), ...requestTags(ours) } }, false],
    ['adopt an EKS ENI in another VPC', { action: 'ec2:CreateTags', resource: eni, context: { ...inVpc('vpc-0other'), ...resourceTags(eks), ...requestTags(ours) } }, false],
    ['tag an EKS ENI for another cluster', { action: 'ec2:CreateTags', resource: eni, context: { ...inVpc(), ...resourceTags(eks), ...requestTags({ ...ours, [TAG.clusterName]: 'other' }) } }, false],
    ['adopt a VPC CNI ENI', { action: 'ec2:CreateTags', resource: eni, context: { ...inVpc(), ...resourceTags({ [TAG.owner]: 'amazon-vpc-cni', [`${TAG.clusterOwnedPrefix}${CLUSTER}`]: 'owned' }), ...requestTags(ours) } }, false],
    ['delete an EKS ENI', { action: 'ec2:DeleteNetworkInterface', resource: eni, context: { ...inVpc(), ...resourceTags(eks) } }, false],
    // Mutations: our tags, this cluster, this VPC; tags alone do not make an ENI elsewhere ours.
    ['delete our ENI', { action: 'ec2:DeleteNetworkInterface', resource: eni, context: { ...inVpc(), ...resourceTags(ours) } }, true],
    ['delete an untagged ENI', { action: 'ec2:DeleteNetworkInterface', resource: eni, context: inVpc() }, false],
    ['delete an ENI of the VPC CNI', { action: 'ec2:DeleteNetworkInterface', resource: eni, context: { ...inVpc(), ...resourceTags({ [TAG.owner]: 'amazon-vpc-cni', [TAG.clusterName]: CLUSTER }) } }, false],
    ['delete another cluster’s ENI', { action: 'ec2:DeleteNetworkInterface', resource: eni, context: { ...inVpc(), ...resourceTags({ ...ours, [TAG.clusterName]: 'other' }) } }, false],
    ['delete an ENI with our tags in another VPC', { action: 'ec2:DeleteNetworkInterface', resource: eni, context: { ...inVpc('vpc-0other'), ...resourceTags(ours) } }, false],
    ['set groups on our ENI', { action: 'ec2:ModifyNetworkInterfaceAttribute', resource: eni, context: { ...inVpc(), ...resourceTags(ours) } }, true],
    ['set a group of another VPC', { action: 'ec2:ModifyNetworkInterfaceAttribute', resource: arn('security-group', 'sg-9'), context: inVpc('vpc-0other') }, false],
    ['permission on a foreign ENI', { action: 'ec2:CreateNetworkInterfacePermission', resource: eni, context: inVpc() }, false],
    ['an action the operator never calls', { action: 'ec2:TerminateInstances', resource: arn('instance', 'i-1'), context: {} }, false],
  ])('%s → %p', (_name, request, expected) => {
    expect(isAllowed(request)).toBe(expected);
  });
});
