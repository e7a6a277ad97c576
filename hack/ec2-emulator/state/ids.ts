import { Ec2Fault } from '../protocol/errors.ts';

/** Resource kinds with their id prefix and the exact EC2 error codes for bad and unknown ids (docs/ec2-semantics.md#errors-and-retries). */
export const ID_KINDS = {
  eni: {
    prefix: 'eni',
    malformed: 'InvalidNetworkInterfaceId.Malformed',
    notFound: 'InvalidNetworkInterfaceID.NotFound',
    noun: 'networkInterface ID',
  },
  instance: {
    prefix: 'i',
    malformed: 'InvalidInstanceID.Malformed',
    notFound: 'InvalidInstanceID.NotFound',
    noun: 'instance ID',
  },
  subnet: {
    prefix: 'subnet',
    malformed: 'InvalidSubnetID.Malformed',
    notFound: 'InvalidSubnetID.NotFound',
    noun: 'subnet ID',
  },
  vpc: { prefix: 'vpc', malformed: 'InvalidVpcID.Malformed', notFound: 'InvalidVpcID.NotFound', noun: 'vpc ID' },
  group: {
    prefix: 'sg',
    malformed: 'InvalidGroupId.Malformed',
    notFound: 'InvalidGroup.NotFound',
    noun: 'security group',
  },
  attachment: {
    prefix: 'eni-attach',
    malformed: 'InvalidNetworkInterfaceAttachmentId.Malformed',
    notFound: 'InvalidAttachmentID.NotFound',
    noun: 'network interface attachment ID',
  },
  association: {
    prefix: 'trunk-assoc',
    malformed: 'InvalidAssociationID.Malformed',
    notFound: 'InvalidAssociationID.NotFound',
    noun: 'association ID',
  },
  reservation: {
    prefix: 'r',
    malformed: 'InvalidReservationID.Malformed',
    notFound: 'InvalidReservationID.NotFound',
    noun: 'reservation ID',
  },
  vpcCidr: {
    prefix: 'vpc-cidr-assoc',
    malformed: 'InvalidVpcCidrBlockAssociationId.Malformed',
    notFound: 'InvalidVpcCidrBlockAssociationID.NotFound',
    noun: 'vpc cidr block association ID',
  },
  subnetCidr: {
    prefix: 'subnet-cidr-assoc',
    malformed: 'InvalidSubnetCidrBlockAssociationId.Malformed',
    notFound: 'InvalidSubnetCidrBlockAssociationID.NotFound',
    noun: 'subnet cidr block association ID',
  },
} as const;

export type IdKind = keyof typeof ID_KINDS;

const SUFFIX = /^[0-9a-f]{8}(?:[0-9a-f]{9})?$/;

export function isWellFormedId(kind: IdKind, id: string): boolean {
  const prefix = `${ID_KINDS[kind].prefix}-`;
  return id.startsWith(prefix) && SUFFIX.test(id.slice(prefix.length));
}

/** Throws the kind's `…Malformed` code with AWS's wording: `Invalid id: "bogus" (expecting "eni-...")`. */
export function assertWellFormedId(kind: IdKind, id: string): void {
  if (!isWellFormedId(kind, id)) {
    throw new Ec2Fault(ID_KINDS[kind].malformed, `Invalid id: "${id}" (expecting "${ID_KINDS[kind].prefix}-...")`);
  }
}

export function notFound(kind: IdKind, id: string): Ec2Fault {
  const { notFound: code, noun } = ID_KINDS[kind];
  return new Ec2Fault(code, `The ${noun} '${id}' does not exist`);
}

/** The plural form AWS uses when several explicit ids are unknown. */
export function notFoundMany(kind: IdKind, ids: string[]): Ec2Fault {
  if (ids.length === 1) return notFound(kind, ids[0] ?? '');
  const { notFound: code, noun } = ID_KINDS[kind];
  return new Ec2Fault(code, `The ${noun}s '${ids.join(', ')}' do not exist`);
}
