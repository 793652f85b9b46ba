// A webhook receiver on loopback for the notification tests: verifies each request's signature
// the way README tells receivers to, records what arrived (in arrival order), and can be told to
// fail (answer a status), to stall, or to hold requests until released.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/notifications/delivery.js';

export interface ReceivedDelivery {
  eventId: string;
  subscriptionId: string;
  attempt: number;
  signatureValid: boolean;
  body: { id: string; type: string; position: string; subscriptionId: string; payload: unknown };
  /** The status this receiver answered. */
  answered: number;
  receivedAtMs: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedDelivery[];
  /** Answer with this status (2xx accepts); default 204. */
  status: number;
  /** Wait this long before answering. */
  delayMs: number;
  /** Called when a request arrives, before it is answered. */
  onRequest: ((d: ReceivedDelivery) => void) | null;
  /** Secrets by subscription id, to verify signatures with. */
  secrets: Map<string, string>;
  /** Accepted deliveries, first receipt of each event per subscription, in arrival order. */
  accepted(subscriptionId: string): ReceivedDelivery[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(path = '/hooks/arbiter'): Promise<WebhookReceiver> {
  const r: WebhookReceiver = {
    url: '',
    received: [],
    status: 204,
    delayMs: 0,
    onRequest: null,
    secrets: new Map(),
    accepted(subscriptionId) {
      const seen = new Set<string>();
      return this.received.filter((d) => {
        if (d.subscriptionId !== subscriptionId || d.answered >= 300 || seen.has(d.eventId)) return false;
        seen.add(d.eventId);
        return true;
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const subscriptionId = String(req.headers['x-arbiter-subscription-id'] ?? '');
      const secret = r.secrets.get(subscriptionId) ?? '';
      const status = req.url === path ? r.status : 404;
      const d: ReceivedDelivery = {
        eventId: String(req.headers['x-arbiter-event-id'] ?? ''),
        subscriptionId,
        attempt: Number(req.headers['x-arbiter-delivery-attempt']),
        signatureValid: verifySignature(
          secret,
          { signature: req.headers['x-arbiter-signature'] as string | undefined, timestamp: req.headers['x-arbiter-timestamp'] as string | undefined },
          raw,
          Math.floor(Date.now() / 1000),
        ),
        body: JSON.parse(raw),
        answered: status,
        receivedAtMs: Date.now(),
      };
      r.received.push(d);
      r.onRequest?.(d);
      setTimeout(() => res.writeHead(status).end(), r.delayMs);
    });
  };
  const server = createServer(handle);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return r;
}
