/**
 * Starts the XKS listener beside the proxy's own API (from main.ts) when VEIL_XKS_PORT is set,
 * and reloads its settings file on SIGHUP: add a credential, update KMS, then remove the old
 * one, all without a restart (the spec's "SigV4 credentials rotation"). A file that does not
 * check out is not loaded, and the settings in force stay.
 */
import type { Server } from 'node:https';
import type { AuditLog } from '../audit';
import type { Policy } from '../policy';
import { readXksSettings, type XksListenConfig, type XksSettings } from './config';
import type { XksBackend } from './operations';
import { createXksServer } from './server';

export interface RunningXks {
  server: Server;
  /** Reads the settings file again; on failure keeps the settings in force and says why. */
  reload(): void;
}

/**
 * Reads the settings and checks them against the Model B policy ([Note: XKS and Model B on one
 * label] in format.ts).
 * @throws Error when the file is malformed or an XKS key's label accepts legacy wraps.
 */
function load(listen: XksListenConfig, policy: Policy): XksSettings {
  const settings = readXksSettings(listen.settingsFile);
  for (const [id, rule] of settings.keys) {
    if (policy.acceptsLegacyWraps(rule.label)) {
      throw new Error(
        `XKS settings: the external key "${id}" uses the label "${rule.label}", which the HSM policy lets open legacy wraps; set its "legacyWraps" to "refuse" (see server/hsm-proxy/README.md)`,
      );
    }
  }
  return settings;
}

/**
 * Creates the XKS server (not yet listening) and its settings.
 * @throws Error when the settings file is malformed or unsafe with this policy.
 */
export function startXks(
  listen: XksListenConfig,
  backend: XksBackend,
  audit: AuditLog,
  policy: Policy,
): RunningXks {
  let settings = load(listen, policy);
  const server = createXksServer({ backend, audit, settings: () => settings, tls: listen.tls });
  return {
    server,
    reload() {
      try {
        settings = load(listen, policy);
        console.log(
          `XKS settings reloaded: ${settings.credentials.size} credential(s), ${settings.keys.size} key(s)`,
        );
      } catch (error) {
        console.error(
          `XKS settings not reloaded, the previous ones stay: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    },
  };
}
