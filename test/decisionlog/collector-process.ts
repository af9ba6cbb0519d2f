// A decision-log collector as its own process, so a test can stop and restart it as a real outage:
//   node collector-process.js PORT MODE RECORD_FILE
// MODE ok: acknowledge with 200 and append one JSON line per request (method, url, headers, events) to
// RECORD_FILE; ack: read the body and answer 200, recording nothing (benchmarks); 500: answer 500; garbage:
// answer bytes that are not HTTP, then close; slow: never answer.
// Only acknowledged requests are recorded, so the file holds exactly what the sender may count as shipped. In the
// failing modes the parent (if forked) is sent "attempt failed" once a request has failed: answered, or, when slow,
// given up by the sender.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { appendFileSync } from 'node:fs';
import { decodeUpload } from './collector.js';

const [port, mode, recordFile] = process.argv.slice(2);
if (!['ok', 'ack', '500', 'garbage', 'slow'].includes(mode)) throw new Error(`unknown mode ${mode}`);

const attemptFailed = () => process.send?.('attempt failed');

const server =
  mode === 'garbage'
    ? createTcpServer((socket) => {
        socket.once('data', () => socket.end('\u0000\u0001 not http at all\r\n\r\n', attemptFailed));
        socket.on('error', () => undefined);
      })
    : createHttpServer((req, res) => {
        const parts: Buffer[] = [];
        req.on('data', (part: Buffer) => parts.push(part));
        req.on('end', () => {
          if (mode === 'slow') {
            req.socket.once('close', attemptFailed);
            return;
          }
          if (mode === 'ack') {
            res.writeHead(200).end();
            return;
          }
          if (mode === '500') {
            res.writeHead(500).end('collector failing', attemptFailed);
            return;
          }
          const events = decodeUpload(Buffer.concat(parts));
          appendFileSync(recordFile, JSON.stringify({ method: req.method, url: req.url, headers: req.headers, events }) + '\n');
          res.writeHead(200).end();
        });
      });
server.listen(Number(port), '127.0.0.1', () => process.send?.('listening'));
