/**
 * A connection to one of QEMU's unix sockets (QMP, the guest agent's chardev), within a time
 * limit; failures come back as the caller's own typed error.
 */
import { createConnection, type Socket } from 'node:net';

export function connectUnixSocket(socketPath: string, timeoutMs: number, fail: (problem: string) => Error): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = createConnection(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      reject(fail(`could not connect to ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (error) => {
      clearTimeout(timer);
      reject(fail(`${socketPath}: ${error.message}`));
    });
  });
}
