/** A SubnetDirectory whose view of the VPC a test sets directly (the real one describes EC2). */
import type { SubnetDirectory } from '../../operator/controllers/vpcnetwork/index.ts';
import type { VpcNetworkSnapshot } from '../../operator/controllers/vpcnetwork/index.ts';

export class FakeSubnetDirectory implements SubnetDirectory {
  view: VpcNetworkSnapshot | undefined;
  readonly exhausted = new Set<string>();
  readonly reported: string[] = [];
  readonly tagKey: string;

  constructor(view?: VpcNetworkSnapshot, tagKey = 'kubernetes.io/role/cni') {
    this.view = view;
    this.tagKey = tagKey;
  }

  snapshot(): VpcNetworkSnapshot | undefined {
    return this.view;
  }

  isExhausted(subnetId: string): boolean {
    return this.exhausted.has(subnetId);
  }

  reportExhausted(subnetId: string): void {
    this.reported.push(subnetId);
    this.exhausted.add(subnetId);
  }
}
