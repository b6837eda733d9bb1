// The local DynamoDB (dynalite) on a thread of its own; local/dynamodb/dynamodb-thread.ts says
// why. Plain JavaScript: a worker loads its file with Node itself, whatever runs the stack (tsx,
// vitest, the CLI), and this one needs nothing but dynalite.
//
// Each message is one HTTP request the stack's endpoint received: it is replayed to dynalite's own
// request listener as a minimal request (a stream of the body, with the headers, method and URL)
// and response (status, headers, body), which is all that listener reads and writes. The answer
// goes back as one message.
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const server = dynalite(workerData.options);

/** The part of ServerResponse that dynalite's listener uses. */
class ReplayedResponse {
  statusCode = 200;
  headers = {};
  constructor(id) {
    this.id = id;
  }
  setHeader(name, value) {
    this.headers[name.toLowerCase()] = String(value);
  }
  getHeader(name) {
    return this.headers[name.toLowerCase()];
  }
  end(body) {
    const bytes = body === undefined ? new Uint8Array() : Buffer.from(body);
    parentPort.postMessage({
      id: this.id,
      statusCode: this.statusCode,
      headers: this.headers,
      body: bytes,
    });
  }
}

parentPort.on('message', ({ id, method, url, headers, body }) => {
  const request = Readable.from(body.byteLength === 0 ? [] : [Buffer.from(body)]);
  Object.assign(request, { method, url, headers });
  server.emit('request', request, new ReplayedResponse(id));
});
parentPort.postMessage({ ready: true });
