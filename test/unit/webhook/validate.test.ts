import { describe, expect, test } from '@jest/globals';
import {
  decidePodValidation,
  EKS_CONTROLLER_USERNAMES,
  toAdmissionResponse,
  type AdmissionOperation,
  type AdmissionRequest,
} from '../../../operator/webhook/index.ts';

const OPERATOR = 'system:serviceaccount:sgp-system:sgp-operator';
const USERS = [OPERATOR, ...EKS_CONTROLLER_USERNAMES];
const ANNOTATION = '[{"eniId":"eni-0a","vlanId":3}]';

const request = (
  operation: AdmissionOperation,
  username: string,
  after: string | undefined,
  before?: string,
): AdmissionRequest => ({
  uid: 'req-1',
  operation,
  namespace: 'shop',
  userInfo: { username },
  object: {
    metadata: {
      name: 'web',
      namespace: 'shop',
      annotations: after === undefined ? {} : { 'vpc.amazonaws.com/pod-eni': after },
    },
  },
  ...(operation === 'UPDATE'
    ? {
        oldObject: {
          metadata: {
            name: 'web',
            namespace: 'shop',
            annotations: before === undefined ? {} : { 'vpc.amazonaws.com/pod-eni': before },
          },
        },
      }
    : {}),
});

const forgedUpdate = (user: string, change: string): string =>
  `${user} may not ${change} the vpc.amazonaws.com/pod-eni annotation of pod shop/web: it is written only by ` +
  'sgp-operator, and the VPC CNI wires the pod into the branch ENI it names; leave the annotation as it is';

describe('decidePodValidation', () => {
  test.each([
    { name: 'CREATE without the annotation', req: request('CREATE', 'alice', undefined) },
    { name: 'CREATE by the operator', req: request('CREATE', OPERATOR, ANNOTATION) },
    { name: 'UPDATE leaving the annotation as it was', req: request('UPDATE', 'alice', ANNOTATION, ANNOTATION) },
    { name: 'UPDATE by the operator adding it', req: request('UPDATE', OPERATOR, ANNOTATION, undefined) },
    {
      name: 'UPDATE by EKS’s controller changing it',
      req: request('UPDATE', 'eks:vpc-resource-controller', '[]', ANNOTATION),
    },
    { name: 'UPDATE by the operator removing it', req: request('UPDATE', OPERATOR, undefined, ANNOTATION) },
    { name: 'DELETE by anyone', req: request('DELETE', 'alice', ANNOTATION) },
  ])('allows $name', ({ req }) => {
    expect(decidePodValidation(req, USERS).kind).toBe('allow');
  });

  test.each([
    {
      name: 'CREATE carrying the annotation',
      req: request('CREATE', 'alice', ANNOTATION),
      message:
        'pod cannot be created with the vpc.amazonaws.com/pod-eni annotation: it is written only by sgp-operator ' +
        "once the pod's branch ENI is attached; remove the annotation from pod shop/web",
    },
    {
      name: 'a Binding carrying it (its annotations are copied onto the pod)',
      req: { ...request('CREATE', 'system:kube-scheduler', ANNOTATION), subResource: 'binding' },
      message:
        'a Binding may not set the vpc.amazonaws.com/pod-eni annotation of pod shop/web: it is written only by ' +
        "sgp-operator once the pod's branch ENI is attached; bind the pod without it",
    },
    {
      name: 'UPDATE adding it',
      req: request('UPDATE', 'alice', ANNOTATION, undefined),
      message: forgedUpdate('alice', 'add'),
    },
    {
      name: 'UPDATE changing it',
      req: request('UPDATE', 'bob', '[]', ANNOTATION),
      message: forgedUpdate('bob', 'change'),
    },
    {
      name: 'UPDATE removing it',
      req: request('UPDATE', 'bob', undefined, ANNOTATION),
      message: forgedUpdate('bob', 'remove'),
    },
    {
      name: 'UPDATE by a look-alike of the operator’s name',
      req: request('UPDATE', `${OPERATOR}x`, '[]', ANNOTATION),
      message: forgedUpdate(`${OPERATOR}x`, 'change'),
    },
  ])('denies $name', ({ req, message }) => {
    const verdict = decidePodValidation(req, USERS);
    expect(verdict).toEqual({ kind: 'deny', code: 403, reason: 'annotation-forged', message });
    expect(toAdmissionResponse('req-1', verdict)).toEqual({
      uid: 'req-1',
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message },
    });
  });
});
