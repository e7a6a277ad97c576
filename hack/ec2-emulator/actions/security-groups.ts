import { Ec2Fault, invalidValue, missingParameter } from '../protocol/errors.ts';
import { addSecurityGroup, deleteSecurityGroup } from '../state/ops-topology.ts';
import type { ActionDefinition } from './context.ts';
import { readTagSpecifications } from './context.ts';
import { tagSet } from './shapes.ts';

/**
 * CreateSecurityGroup and DeleteSecurityGroup, so tests can make a group appear, disappear or come back under the
 * same name through the SDK, as an administrator would (docs/ec2-semantics.md#security-groups). Rules as EC2
 * states them: a name is at most 255 characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*, cannot
 * start with "sg-", and is unique in its VPC regardless of case; the description follows the same character
 * rules. The emulator has no default VPC, so VpcId is required and GroupName cannot stand for an id.
 */

const NAME_CHARACTERS = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/;
const MAX_LENGTH = 255;
export const NO_DEFAULT_VPC = 'No default VPC for this user';

function checkText(parameter: string, value: string): void {
  if (value.length > MAX_LENGTH || !NAME_CHARACTERS.test(value)) {
    throw invalidValue(
      `Value (${value}) for parameter ${parameter} is invalid. Character sets beyond ASCII are not supported ` +
        `and at most ${MAX_LENGTH} characters are allowed.`,
    );
  }
}

export const createSecurityGroupAction: ActionDefinition = {
  name: 'CreateSecurityGroup',
  params: ['GroupName', 'GroupDescription', 'VpcId', 'TagSpecification'],
  handle({ params, store }) {
    const name = params.required('GroupName');
    const description = params.string('GroupDescription');
    if (description === undefined) throw missingParameter('GroupDescription');
    checkText('GroupName', name);
    checkText('GroupDescription', description);
    if (name.toLowerCase().startsWith('sg-')) {
      throw invalidValue(
        `Value (${name}) for parameter GroupName is invalid. Group names may not be in the format sg-*`,
      );
    }
    const vpcId = params.string('VpcId');
    if (vpcId === undefined) throw new Ec2Fault('VPCIdNotSpecified', NO_DEFAULT_VPC);
    store.requireVpc(vpcId);
    const tags = readTagSpecifications(params, 'security-group');
    const group = addSecurityGroup(store, vpcId, { name, description, tags: Object.fromEntries(tags) });
    return {
      groupId: group.id,
      tagSet: tagSet(group.tags),
      securityGroupArn: `arn:aws:ec2:${store.config.region}:${store.config.accountId}:security-group/${group.id}`,
    };
  },
};

export const deleteSecurityGroupAction: ActionDefinition = {
  name: 'DeleteSecurityGroup',
  params: ['GroupId', 'GroupName'],
  handle({ params, store }) {
    const groupId = params.string('GroupId');
    if (groupId === undefined) {
      if (params.string('GroupName') !== undefined) throw new Ec2Fault('VPCIdNotSpecified', NO_DEFAULT_VPC);
      throw missingParameter('GroupId');
    }
    deleteSecurityGroup(store, groupId);
    return { return: true, groupId };
  },
};
