/**
 * The local stack as one unit: moto (S3, KMS, Cognito) provisioned for Veil, a SoftHSM2 token
 * with its key, and the HSM proxy; it yields the `config.json` that points the app at them.
 * `npm start` uses it on fixed ports; tests use it on free ports in a temporary directory.
 */
import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHsmProxy, type HsmProxyOptions } from './hsm-proxy';
import { isMoto, motoRecording, recordedRequests, startMoto } from './moto';
import { StackError, type Managed } from './process';
import {
  LOCAL_CREDENTIALS,
  provisionAws,
  type ProvisionOptions,
  type Provisioned,
} from './provision';
import { ensureSoftHsmToken, type SoftHsmToken } from './softhsm';
import type { Service } from './supervise';

export interface StackOptions {
  /** Directory for the SoftHSM2 token and other local state. */
  dir: string;
  motoPort: number;
  hsmPort: number;
  /** Origins the app is served from (bucket CORS, proxy CORS). */
  appOrigins: string[];
  region?: string;
  bucket?: string;
  /** Reuse a moto server already listening on motoPort instead of failing. */
  reuseMoto?: boolean;
  /** Extra environment for the HSM proxy (limits, sessions). */
  hsmEnv?: NodeJS.ProcessEnv;
  /**
   * Record moto's requests in `dir` so a restarted moto gets its state back
   * ([Note: moto state across restarts]); `npm start` sets it. 'restore' also replays the
   * recording of an earlier run that did not stop cleanly; 'fresh' starts a new recording.
   */
  motoState?: 'fresh' | 'restore';
}

/** The config.json content for the app (the shape parseConfig validates). */
export interface AppConfigJson {
  region: string;
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
  endpoints: { s3: string; kms: string; cognitoIdentity: string; cognitoIdentityProvider: string };
  cognito: { identityPoolId: string; userPoolId: string; userPoolClientId: string };
  kms: { keyId: string };
  hsm: { proxyUrl: string; keyLabel: string };
}

export interface Stack {
  config: AppConfigJson;
  aws: Provisioned;
  token: SoftHsmToken;
  motoUrl: string;
  hsmUrl: string;
  /** The HSM proxy's key policy file and audit log. */
  hsmPolicyFile: string;
  hsmAuditLog: string;
  /** A fresh ID token of the demo user (valid one hour), also written to `<dir>/demo-id-token`. */
  demoIdToken: string;
  /** The child processes this stack started, restartable (moto only when not reused). */
  services: Service[];
  stop(): Promise<void>;
}

export const DEMO = {
  region: 'us-east-1',
  bucket: 'veil-demo',
  kmsAlias: 'alias/veil-demo',
  tokenLabel: 'veil',
  hsmKeyLabel: 'veil-wrap-1',
  // Local demo secrets only: the SoftHSM2 token and the Cognito demo user of the local stack.
  pin: '1234-veil-user',
  soPin: '5678-veil-officer',
  demoUser: { username: 'demo', password: 'Veil-demo-2026' },
  /** Cognito groups the proxy's policy refers to; the demo user is in the first. */
  hsmUsersGroup: 'veil-hsm-users',
  hsmAdminsGroup: 'veil-hsm-admins',
} as const;

/** Signs the demo user in to the local user pool and returns the ID token. */
export async function demoIdToken(
  motoUrl: string,
  region: string,
  clientId: string,
): Promise<string> {
  const idp = new CognitoIdentityProviderClient({
    region,
    endpoint: motoUrl,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const auth = await idp.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: clientId,
        AuthParameters: { USERNAME: DEMO.demoUser.username, PASSWORD: DEMO.demoUser.password },
      }),
    );
    const token = auth.AuthenticationResult?.IdToken;
    if (!token) throw new StackError('the demo user could not sign in to the local user pool');
    return token;
  } finally {
    idp.destroy();
  }
}

/** A bucket name unique to one test run. */
export function testBucketName(): string {
  return `veil-test-${randomBytes(6).toString('hex')}`;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const region = o.region ?? DEMO.region;
  const bucket = o.bucket ?? DEMO.bucket;
  const running: { moto?: Managed; proxy?: Managed } = {};
  const stop = async (): Promise<void> => {
    await running.proxy?.stop();
    await running.moto?.stop();
  };
  try {
    const motoState = o.motoState ? { dir: o.dir, restore: o.motoState === 'restore' } : undefined;
    if (!(o.reuseMoto && (await isMoto(o.motoPort)))) {
      running.moto = await startMoto(o.motoPort, motoState);
    } else if (motoState) {
      // Not this stack's moto: an older recording must not be replayed into a later run.
      await rm(motoRecording(o.dir), { force: true });
    }
    const motoUrl = `http://127.0.0.1:${o.motoPort}`;
    const provisioning: ProvisionOptions = {
      endpoint: motoUrl,
      region,
      bucket,
      origins: o.appOrigins,
      kmsAlias: DEMO.kmsAlias,
      identityPoolName: 'veil_demo',
      userPoolName: 'veil-demo-users',
      demoUser: { ...DEMO.demoUser },
      groups: [DEMO.hsmUsersGroup, DEMO.hsmAdminsGroup],
      demoGroups: [DEMO.hsmUsersGroup],
    };
    const aws = await provisionAws(provisioning);
    const token = await ensureSoftHsmToken({
      dir: `${o.dir}/softhsm`,
      tokenLabel: DEMO.tokenLabel,
      pin: DEMO.pin,
      soPin: DEMO.soPin,
      keyLabel: DEMO.hsmKeyLabel,
    });
    if (token.key.extractable) {
      throw new StackError(
        `the HSM key "${DEMO.hsmKeyLabel}" is extractable; delete ${o.dir}/softhsm and start again`,
      );
    }
    const proxyOptions: HsmProxyOptions = {
      port: o.hsmPort,
      dir: o.dir,
      token,
      keyLabel: DEMO.hsmKeyLabel,
      allowedOrigins: o.appOrigins,
      userPoolId: aws.userPoolId,
      clientId: aws.userPoolClientId,
      jwksUrl: `${motoUrl}/${aws.userPoolId}/.well-known/jwks.json`,
      defaultPolicy: {
        groups: { [DEMO.hsmUsersGroup]: [DEMO.hsmKeyLabel] },
        admins: { groups: [DEMO.hsmAdminsGroup] },
        // Owner-bound, and no legacy wraps: a new stack has none (server/hsm-proxy/README.md).
        labels: {},
      },
      ...(o.hsmEnv ? { extraEnv: o.hsmEnv } : {}),
    };
    const proxy = await startHsmProxy(proxyOptions);
    running.proxy = proxy.managed;
    const idToken = await demoIdToken(motoUrl, region, aws.userPoolClientId);
    await writeFile(join(o.dir, 'demo-id-token'), `${idToken}\n`, { mode: 0o600 });
    const hsmUrl = `http://127.0.0.1:${o.hsmPort}`;
    const config: AppConfigJson = {
      region,
      bucket,
      prefix: '',
      forcePathStyle: true,
      endpoints: {
        s3: motoUrl,
        kms: motoUrl,
        cognitoIdentity: motoUrl,
        cognitoIdentityProvider: motoUrl,
      },
      cognito: {
        identityPoolId: aws.identityPoolId,
        userPoolId: aws.userPoolId,
        userPoolClientId: aws.userPoolClientId,
      },
      kms: { keyId: aws.kmsAlias },
      hsm: { proxyUrl: hsmUrl, keyLabel: DEMO.hsmKeyLabel },
    };
    const services: Service[] = [
      {
        label: 'the HSM proxy',
        current: () => proxy.managed,
        restart: async () => {
          proxy.managed = (await startHsmProxy(proxyOptions)).managed;
          running.proxy = proxy.managed;
          return { managed: proxy.managed, detail: `It answers at ${hsmUrl} again.` };
        },
      },
    ];
    if (running.moto) {
      const moto = running.moto;
      services.push({
        label: 'moto',
        current: () => running.moto ?? moto,
        restart: () => restartMoto(o, running, provisioning, aws),
      });
    }
    return {
      config,
      aws,
      token,
      motoUrl,
      hsmUrl,
      hsmPolicyFile: proxy.policyFile,
      hsmAuditLog: proxy.auditLog,
      demoIdToken: idToken,
      services,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Starts moto again after it died. With the stack's recording, the replay brings back what moto
 * held; provisioning again then restores what a replay missed, and shows whether the identifiers
 * in config.json still hold.
 */
async function restartMoto(
  o: StackOptions,
  running: { moto?: Managed },
  provisioning: ProvisionOptions,
  before: Provisioned,
): Promise<{ managed: Managed; detail: string }> {
  const requests = o.motoState ? recordedRequests(o.dir) : 0;
  const startedAtMs = Date.now();
  const moto = await startMoto(o.motoPort, o.motoState ? { dir: o.dir, restore: true } : undefined);
  let aws: Provisioned;
  try {
    aws = await provisionAws(provisioning);
  } catch (error) {
    await moto.stop();
    throw error;
  }
  running.moto = moto;
  const changed = (['kmsKeyArn', 'identityPoolId', 'userPoolId', 'userPoolClientId'] as const)
    .filter((name) => aws[name] !== before[name])
    .map((name) => `${name} ${before[name]} is now ${aws[name]}`);
  const seconds = ((Date.now() - startedAtMs) / 1000).toFixed(1);
  const restored = o.motoState
    ? `Started again and replayed ${requests} recorded requests in ${seconds} s: buckets, objects, KMS keys and users are back.`
    : 'Its buckets, keys and users were provisioned again; the objects it held are lost (moto keeps them only in memory).';
  const warning = changed.length
    ? ` But the stack's identifiers changed (${changed.join('; ')}): config.json is out of date; stop Veil (Ctrl-C) and run npm start again.`
    : '';
  return { managed: moto, detail: `${restored}${warning}` };
}
