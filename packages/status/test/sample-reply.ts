import type { ServiceStatus, StatusReply } from '../src/status-protocol';

export function sampleService(name: string, over: Partial<ServiceStatus> = {}): ServiceStatus {
  return {
    name,
    prefix: '10.52.12.1/32',
    family: 4,
    worker: { state: 'running', threadId: 1, lastHeartbeatAgeMs: 200, restarts: 0, lastExit: null },
    state: 'up',
    rise: 2,
    fail: 0,
    checks: 10,
    timeouts: 0,
    lastCheck: { at: '2026-11-25T10:00:00.000Z', ok: true, exitCode: 0, durationMs: 3.2, timedOut: false, ipAssigned: true },
    advertise: true,
    inBirdFile: true,
    ...over,
  };
}

export function sampleReply(
  services: ServiceStatus[] = [sampleService('web'), sampleService('dns', { prefix: '10.52.12.2/32', state: 'down' })],
): StatusReply {
  return {
    version: 1,
    ok: true,
    daemon: {
      program: 'anycast-healthchecker',
      version: '0.1.0',
      pid: 123,
      startedAt: '2026-11-25T10:00:00.000Z',
      uptimeSeconds: 60,
      configFiles: ['/etc/anycast-healthchecker.conf'],
      workerThreads: 'per-service',
      threads: services.length,
      eventLoop: { lagMs: 1, maxLagMs: 3, blocked: false },
      bird: [
        {
          family: 4,
          path: '/var/lib/x.conf',
          variable: 'ACAST_PS_ADVERTISE',
          reconfigureCommand: 'birdc configure',
          prefixes: ['10.189.200.255/32'],
          desired: ['10.189.200.255/32'],
          lastReconfigureMs: null,
          applied: null,
          reconfigureRuns: 0,
          reconfigureFailures: 0,
          pending: false,
          lastApplied: null,
          lastError: null,
        },
      ],
    },
    services,
  };
}
