/**
 * The chaos suite (./suite.ts) with warm reuse on (docs/warm-branches.md): released branch ENIs are kept warm
 * (up to 4 per node, the recommended limit) and taken over by new pods amid the kills, handovers, EC2 faults,
 * limit changes and cordoned nodes.
 */
import { defineChaosSuite } from './suite.ts';

defineChaosSuite({ warmBranchEnisPerNode: 4 });
