// What every workload does before it measures: find out which systems can run, say why the others
// cannot, and start a result with the run's context.
import type { SystemDriver, SystemStatus, WorkloadResult } from '../harness';
import { machineInfo } from '../harness';

export async function availableSystems(drivers: SystemDriver[]): Promise<{ ok: SystemDriver[]; status: Record<string, SystemStatus> }> {
  const ok: SystemDriver[] = [];
  const status: Record<string, SystemStatus> = {};
  for (const d of drivers) {
    const reason = await d.unavailableReason();
    if (reason) {
      status[d.name] = { status: 'skipped', reason };
      console.log(`  ${d.name}: skipped — ${reason}`);
    } else {
      status[d.name] = { status: 'ok' };
      ok.push(d);
    }
  }
  return { ok, status };
}

/**
 * A workload's result: the run's context (when it finished, on what machine) and what it found. A
 * workload only kadscope runs leaves out systems and status.
 */
export async function workloadResult(
  workload: string,
  command: string,
  startedAt: string,
  settings: Record<string, unknown>,
  found: Pick<WorkloadResult, 'figures' | 'diagnostics' | 'notes'> & Partial<Pick<WorkloadResult, 'systems' | 'status'>>,
): Promise<WorkloadResult> {
  return {
    workload,
    startedAt,
    finishedAt: new Date().toISOString(),
    command,
    machine: await machineInfo(),
    settings,
    systems: found.systems ?? ['kadscope'],
    status: found.status ?? { kadscope: { status: 'ok' } },
    figures: found.figures,
    diagnostics: found.diagnostics,
    notes: found.notes,
  };
}

/** The result of a workload over drivers, before its figures. */
export async function resultShell(
  workload: string,
  command: string,
  startedAt: string,
  drivers: SystemDriver[],
  status: Record<string, SystemStatus>,
  settings: Record<string, unknown>,
): Promise<WorkloadResult> {
  return workloadResult(workload, command, startedAt, settings, { systems: drivers.map((d) => d.name), status, figures: [], diagnostics: {}, notes: [] });
}
