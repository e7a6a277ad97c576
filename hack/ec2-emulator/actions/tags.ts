import { Ec2Fault, invalidValue, missingParameter } from '../protocol/errors.ts';
import { type IdKind, assertWellFormedId, isWellFormedId, notFound } from '../state/ids.ts';
import type { ActionDefinition } from './context.ts';
import { assertTagCount, readTags, validateTag } from './context.ts';

/** CreateTags, DeleteTags (docs/ec2-semantics.md#tags) and CreateNetworkInterfacePermission (accepted, recorded nowhere). */

const MAX_RESOURCES = 1000;
const TAGGABLE: IdKind[] = ['eni', 'instance', 'subnet', 'vpc', 'group'];

function resolveResources(ids: string[], store: Parameters<ActionDefinition['handle']>[0]['store']) {
  if (ids.length === 0) throw missingParameter('ResourceId');
  if (ids.length > MAX_RESOURCES)
    throw invalidValue(`At most ${MAX_RESOURCES} resource ids can be tagged in one call.`);
  return ids.map((id) => {
    const kind = TAGGABLE.find((k) => isWellFormedId(k, id));
    if (!kind) throw new Ec2Fault('InvalidID', `The ID '${id}' is not valid`);
    const target = store.taggable(id);
    const record = store.enis.get(id) ?? store.instances.get(id);
    if (!target || (record && !store.isVisible(record))) throw notFound(kind, id);
    return target;
  });
}

export const createTagsAction: ActionDefinition = {
  name: 'CreateTags',
  params: ['ResourceId', 'Tag'],
  handle({ params, store }) {
    const tags = readTags(params);
    if (tags.size === 0) throw missingParameter('Tag');
    const targets = resolveResources(params.list('ResourceId'), store);
    for (const target of targets) {
      const merged = new Map([...target.tags, ...tags]);
      assertTagCount(merged);
    }
    for (const target of targets) for (const [key, value] of tags) target.put(key, value);
    return { return: true };
  },
};

export const deleteTagsAction: ActionDefinition = {
  name: 'DeleteTags',
  params: ['ResourceId', 'Tag'],
  handle({ params, store }) {
    const targets = resolveResources(params.list('ResourceId'), store);
    const entries = params.structs('Tag').map((entry) => {
      const key = entry.string('Key');
      if (key === undefined) throw missingParameter('Tag.N.Key');
      const value = entry.string('Value');
      validateTag(key, value ?? '');
      return { key, value };
    });
    for (const target of targets) {
      if (entries.length === 0) {
        for (const key of [...target.tags.keys()]) target.delete(key);
        continue;
      }
      // Key alone deletes whatever the value; key with a value (even "") deletes only on an exact match.
      for (const { key, value } of entries) {
        if (value === undefined || target.tags.get(key) === value) target.delete(key);
      }
    }
    return { return: true };
  },
};

const PERMISSIONS = new Set(['INSTANCE-ATTACH', 'EIP-ASSOCIATE']);

export const createNetworkInterfacePermissionAction: ActionDefinition = {
  name: 'CreateNetworkInterfacePermission',
  params: ['NetworkInterfaceId', 'AwsAccountId', 'AwsService', 'Permission'],
  handle({ params, store }) {
    const eniId = params.required('NetworkInterfaceId');
    assertWellFormedId('eni', eniId);
    const permission = params.required('Permission');
    if (!PERMISSIONS.has(permission)) throw invalidValue(`Value (${permission}) for parameter permission is invalid.`);
    const account = params.string('AwsAccountId');
    const service = params.string('AwsService');
    if ((account === undefined) === (service === undefined)) {
      throw new Ec2Fault('InvalidParameterCombination', 'Specify exactly one of AwsAccountId and AwsService.');
    }
    store.requireEni(eniId);
    return {
      interfacePermission: {
        networkInterfacePermissionId: store.newId('eni').replace('eni-', 'eni-perm-'),
        networkInterfaceId: eniId,
        awsAccountId: account,
        awsService: service,
        permission,
        permissionState: { state: 'granted' },
      },
    };
  },
};
