/**
 * The HSM proxy's settings, from its environment. The PIN is read here and kept out of logs.
 */
import type { HsmOptions } from './hsm';

export interface ProxyConfig {
  host: string;
  port: number;
  hsm: HsmOptions;
  /** The key label the health check looks for (the default wrapping key). */
  defaultKeyLabel: string;
  /** Origins allowed to call the proxy from a browser (CORS); the app's own origin. */
  allowedOrigins: string[];
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} must be set (see server/hsm-proxy/README.md)`);
  return value;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const port = Number(env.VEIL_HSM_PORT ?? '8787');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error('VEIL_HSM_PORT must be a port number');
  }
  return {
    host: env.VEIL_HSM_HOST ?? '127.0.0.1',
    port,
    hsm: {
      libraryPath: required(env, 'VEIL_HSM_LIBRARY'),
      ...(env.VEIL_HSM_TOKEN ? { tokenLabel: env.VEIL_HSM_TOKEN } : {}),
      pin: required(env, 'VEIL_HSM_PIN'),
    },
    defaultKeyLabel: required(env, 'VEIL_HSM_KEY_LABEL'),
    allowedOrigins: (env.VEIL_HSM_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
  };
}
