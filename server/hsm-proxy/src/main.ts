/**
 * Entry of the HSM proxy: opens the HSM, serves HTTP, and on SIGTERM/SIGINT stops accepting,
 * lets requests in flight finish, then closes the HSM (never C_Finalize with calls in flight).
 */
import { configFromEnv } from './config';
import { Hsm } from './hsm';
import { createProxyServer, SERVICE_NAME } from './server';

const config = configFromEnv();
const hsm = Hsm.open(config.hsm);
const server = createProxyServer(hsm, config);

server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  console.log(
    `${SERVICE_NAME} listening on http://${config.host}:${port} (token ${hsm.tokenLabel})`,
  );
});

function shutdown(): void {
  server.close(() => {
    hsm.close();
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
