/**
 * Runs s3rver (a loopback S3) in its own process, because its paged listing encrypts continuation tokens
 * with DES, which Node 17+ only offers under --openssl-legacy-provider (a process-wide flag the test
 * runner itself should not run with). Prints {"port": n} once listening; stops when stdin closes.
 */
'use strict';
const S3rver = require('s3rver');

const [directory] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, allowMismatchedSignatures: false });
server.run().then(
  (address) => process.stdout.write(`${JSON.stringify({ port: address.port })}\n`),
  (err) => {
    process.stderr.write(`s3rver failed to start: ${err && err.stack}\n`);
    process.exit(1);
  },
);
// The parent holds stdin open; when it exits (even killed), stdin closes and so does this server.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
