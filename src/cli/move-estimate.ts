/**
 * The bytes a move is expected to take, as the rewrap engine will move them ([Note: rewrap
 * plan] in transfer/rewrap-plan.ts), for the plans `veil mv` and `veil names rotate` print.
 * move-plan.ts counts a header's worth through this machine for every object, as if each body
 * were copied inside S3; but an object whose new form fits one PutObject (5 MiB by default) is
 * read and sent again whole. Each ready object is planned here with planRewrap, its header taken
 * as HEADER_GUESS_BYTES (a move is planned without reading the headers).
 */
import { totalsOf, type BatchPlan } from '../transfer/rewrap-batch';
import { planRewrap } from '../transfer/rewrap-plan';

/** A header's bytes as guessed: a few keys and the binding. */
const HEADER_GUESS_BYTES = 1024;

/** `plan` with each ready object's bytes as planRewrap counts them, and its totals. Pure. */
export function withRewrapEstimates<P extends BatchPlan>(plan: P): P {
  const objects = plan.objects.map((object) => {
    if (object.skip || object.objectBytes === 0) return object;
    const headerBytes = Math.min(object.objectBytes, HEADER_GUESS_BYTES);
    try {
      const sizes = planRewrap({
        objectBytes: object.objectBytes,
        oldHeaderBytes: headerBytes,
        newHeaderBytes: headerBytes,
      });
      return {
        ...object,
        method: sizes.method,
        receivedBytes: headerBytes + sizes.readBodyBytes,
        sentBytes: sizes.sentBytes,
        copiedBytes: sizes.copiedBytes,
      };
    } catch {
      return object;
    }
  });
  return { ...plan, objects, totals: totalsOf(objects) };
}
