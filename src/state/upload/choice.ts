/**
 * The protection chosen for an upload, as the Upload view offers it: a key model (A, B or C)
 * with an optional SSE layer at rest, or, for comparison, S3 only (SSE-S3, SSE-KMS or nothing),
 * which is not zero knowledge. Turns the choice into a Protection (shared/protection.ts) and into the
 * upload engine's options. Pure.
 */
import type { AtRest } from '../../transfer/upload';
import type { ModelId, Protection } from '../shared/protection';

/** The SSE layer: none, SSE-S3 or SSE-KMS. */
export type SseChoice = 'none' | 'SSE-S3' | 'SSE-KMS';

/** What the user picked: a model (zero knowledge), or S3 only. */
export type ModeChoice = ModelId | 'S3-ONLY';

/** The whole choice. `sse` is the layer at rest (models) or the only protection (S3 only). */
export interface UploadChoice {
  readonly mode: ModeChoice;
  readonly sse: SseChoice;
}

/** The engine's options for a choice. */
export interface EngineProtection {
  readonly protection: 'client-side' | 'none';
  readonly model?: ModelId;
  readonly atRest?: AtRest;
}

/** The SSE choice as the engine's AtRest; SSE-KMS names `kmsKeyId` when given. */
export function atRestOf(sse: SseChoice, kmsKeyId: string | undefined): AtRest | undefined {
  if (sse === 'SSE-S3') return { type: 'SSE-S3' };
  if (sse === 'SSE-KMS') return kmsKeyId ? { type: 'SSE-KMS', kmsKeyId } : { type: 'SSE-KMS' };
  return undefined;
}

/** The SSE choice of a stored AtRest preference. */
export function sseOf(atRest: AtRest | undefined): SseChoice {
  return atRest?.type ?? 'none';
}

/** The Protection a choice gives (for badges and protectionStatement). */
export function protectionOf(choice: UploadChoice, sseKmsKeyId?: string): Protection {
  const atRest = atRestOf(choice.sse, sseKmsKeyId);
  if (choice.mode === 'S3-ONLY') {
    return atRest ? { kind: 'server-side', atRest } : { kind: 'none' };
  }
  return atRest
    ? { kind: 'client-side', model: choice.mode, atRest }
    : { kind: 'client-side', model: choice.mode };
}

/** The upload engine's options for a Protection. */
export function engineOptionsOf(protection: Protection): EngineProtection {
  switch (protection.kind) {
    case 'client-side':
      return protection.atRest
        ? { protection: 'client-side', model: protection.model, atRest: protection.atRest }
        : { protection: 'client-side', model: protection.model };
    case 'server-side':
      return { protection: 'none', atRest: protection.atRest };
    case 'none':
      return { protection: 'none' };
  }
}

/** A short label for a row: "Model C · AWS KMS + SSE-S3", "SSE-KMS only", "Not encrypted". */
export function protectionLabel(protection: Protection): string {
  switch (protection.kind) {
    case 'client-side': {
      const name = { A: 'Model A', B: 'Model B', C: 'Model C' }[protection.model];
      return protection.atRest ? `${name} + ${protection.atRest.type}` : name;
    }
    case 'server-side':
      return `${protection.atRest.type} only`;
    case 'none':
      return 'Not encrypted';
  }
}
