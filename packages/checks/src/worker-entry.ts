import { parentPort, workerData } from 'node:worker_threads';
import { HEARTBEAT_INTERVAL_MS, monotonicMs, parseToWorker, serializeError } from '@ahc/protocol';
import type { FaultKind, FromWorker, ToWorker } from '@ahc/protocol';
import { CheckLoop } from './check-loop';
import { HostSpawner } from './host-spawner';

/**
 * The body of a check worker thread. It hosts one check loop (per-service mode) or many
 * (pooled mode): the messages are the same either way. Deliberately imports almost nothing, so
 * each thread's heap stays small.
 */
export function runCheckWorker(): void {
  const port = parentPort;
  if (port === null) throw new Error('the check worker must run in a worker thread');
  const loops = new Map<string, CheckLoop>();
  // What one turn posts goes out as one message (an array when there are several): a check's
  // result and its records, or a record and its spawn request, cost one postMessage and one wake-up
  // of the main thread instead of four. Order is kept; nothing waits longer than the current turn.
  const queue: FromWorker[] = [];
  const flush = (): void => {
    const batch = queue.splice(0);
    port.postMessage(batch.length === 1 ? batch[0] : batch);
  };
  const post = (message: FromWorker): void => {
    if (queue.push(message) === 1) queueMicrotask(flush);
  };
  const spawner = new HostSpawner(post);

  const handle = (message: ToWorker): void => {
    switch (message.type) {
      case 'start': {
        loops.get(message.service)?.stop();
        const loop = new CheckLoop(message.spec, message.counters, message.logLevel, {
          post,
          ipAssigned: message.ipAssigned,
          ...(message.spawnVia === 'host' ? { runCommand: spawner.runnerFor(message.service) } : {}),
        });
        loops.set(message.service, loop);
        loop.start();
        return;
      }
      case 'run-now':
        if (message.service === '*') for (const loop of loops.values()) loop.runNow();
        else loops.get(message.service)?.runNow();
        return;
      case 'ip-state':
        loops.get(message.service)?.setIpAssigned(message.assigned);
        return;
      case 'stop':
        loops.get(message.service)?.stop();
        loops.delete(message.service);
        return;
      case 'spawn-result':
        spawner.settle(message);
        return;
      case 'fault':
        if ((workerData as { faultInjection?: boolean } | null)?.faultInjection === true)
          injectFault(message.kind, loops.get(message.service), port);
        return;
    }
  };

  port.on('message', (raw: unknown) => {
    try {
      handle(parseToWorker(raw));
    } catch (error) {
      post({ type: 'error', service: '*', error: serializeError(error) });
    }
  });

  // Liveness: the event loop of this thread is turning. The supervisor's watchdog reads it.
  // The first one goes out at once: it tells the supervisor the thread is up.
  const beat = (): void => {
    post({ type: 'heartbeat', service: '*', at: monotonicMs() });
  };
  beat();
  setInterval(beat, HEARTBEAT_INTERVAL_MS);
}

/** Test-only failures, to prove the watchdog (see FaultMessage). */
function injectFault(kind: FaultKind, loop: CheckLoop | undefined, port: NonNullable<typeof parentPort>): void {
  switch (kind) {
    case 'throw':
      setImmediate(() => {
        throw new Error('injected fault: uncaught exception in a check worker');
      });
      return;
    case 'exit':
      process.exit(3);
      return;
    case 'busy-loop':
      setImmediate(() => {
        for (;;) {
          // spin: no heartbeat ever again
        }
      });
      return;
    case 'stall-loop':
      loop?.stall();
      return;
    case 'malformed':
      port.postMessage({ type: 'log', seq: 1, service: loop?.spec.name ?? '*', level: 'loud', message: 'not a level' });
      port.postMessage('not even an object');
      return;
  }
}
