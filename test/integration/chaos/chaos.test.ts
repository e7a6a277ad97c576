/**
 * The chaos suite (./suite.ts) with warm reuse off: every released branch ENI is deleted, as EKS does.
 */
import { defineChaosSuite } from './suite.ts';

defineChaosSuite({ warmBranchEnisPerNode: 0 });
