/** What `kubectl sgp` reports and exits on: usage mistakes (exit 2) and failed commands (exit 1). */
import { OperatorError } from '../operator/errors.ts';

/** A flag, argument or kubeconfig context the user got wrong; the message says what to write instead. */
export class UsageError extends OperatorError {}

/** A command that cannot answer: the object does not exist, the file is not a policy, EC2 refused. */
export class CommandError extends OperatorError {}
