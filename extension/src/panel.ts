/**
 * The "MLOps Accelerator" sidebar: seven stages with progress and role badges, a role filter,
 * each stage's deliverables, and buttons to open the wizard, run the stage and sign off.
 *
 * Plain DOM on a Lumino widget: the whole panel is re-rendered from `status` when it changes.
 */
import { showErrorMessage } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import {
  APIError,
  IAzureJob,
  IItem,
  INotebookError,
  IPreflightFinding,
  IReapproval,
  IRunProgress,
  IStageStatus,
  IStatus,
  post,
  requestAPI
} from './api';
import { askSignoff } from './signoff';
import { openRendered } from './wizardlinks';

const POLL_MS = 4000;
const RUN_POLL_MS = 1000;

const STATE_LABEL: Record<string, string> = {
  done: 'done',
  failed: 'failed',
  awaiting_signoff: 'awaiting sign-off',
  todo: 'to do',
  not_applicable: 'n/a'
};

type Attrs = Record<string, string | boolean | ((ev: Event) => void) | undefined>;

/** Build an element: h('div', {class: 'x', onclick: fn}, 'text', child, ...). */
function h(tag: string, attrs: Attrs = {}, ...children: (Node | string | null | false)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) {
      continue;
    }
    if (typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, value);
    }
  }
  for (const child of children) {
    if (child !== null && child !== false) {
      el.append(child);
    }
  }
  return el;
}

/** A short badge for a role: its capitals ("DevOps Engineer" -> "DOE", "Data Engineer" -> "DE"). */
function initials(name: string): string {
  return (name.match(/[A-Z]/g) ?? [name[0]]).join('').slice(0, 3);
}

export class AcceleratorPanel extends Widget {
  constructor(private readonly commands: CommandRegistry) {
    super();
    this.id = 'mlops-accelerator-panel';
    this.addClass('jp-MLOpsAccelerator');
    this.title.caption = 'MLOps Accelerator';
    this.node.tabIndex = 0;
    this.renderMessage('Loading…');
  }

  /** Fetch the status and re-render if anything changed. */
  async refresh(): Promise<void> {
    try {
      const status = await requestAPI<IStatus>('status');
      const signature = JSON.stringify(status);
      if (signature !== this._signature || this._noProject) {
        this._signature = signature;
        this._noProject = false;
        this.status = status;
        this.render();
      }
    } catch (error) {
      if (error instanceof APIError && error.code === 'no_project') {
        if (!this._noProject) {
          this._noProject = true;
          this._signature = '';
          this.status = null;
          this.renderCreate();
        }
      } else {
        this._signature = '';
        this.renderMessage(`Cannot load the project status: ${(error as Error).message}`, true);
      }
    }
  }

  /** Open the wizard notebook of a stage (copied into the project on first use). */
  async openWizard(stage: number | string, voila = false): Promise<void> {
    try {
      const answer = await post<{ path: string; voila_url: string | null }>(
        `stages/${stage}/wizard`,
        {}
      );
      if (voila && answer.voila_url) {
        window.open(answer.voila_url, '_blank', 'noopener');
      } else {
        // Open the wizard rendered: its one cell runs at once and its code is hidden, so a person
        // sees the wizard, not a code cell with no hint to run it.
        await openRendered(this.commands, answer.path);
      }
    } catch (error) {
      void showErrorMessage('Cannot open the wizard', (error as Error).message);
    }
  }

  /** Start a background run of a stage and follow its progress in the panel. */
  async runStage(stage: string): Promise<void> {
    try {
      // The server names the stage by its slug, whether it was asked by number or slug.
      const target = this.targets.get(stage) ?? 'local';
      const { run_id, stages } = await post<{ run_id: string; stages: string[] }>('runs', {
        stages: [stage],
        target
      });
      const slug = stages[0];
      this.runs.set(slug, {
        run_id,
        state: 'queued',
        total: null,
        finished: 0,
        notebooks: [],
        run_dir: null,
        outputs: [],
        log_tail: '',
        jobs: []
      });
      this.expanded.add(slug);
      this.render();
      void this.followRun(slug, run_id);
    } catch (error) {
      void showErrorMessage('Cannot start the run', (error as Error).message);
    }
  }

  async checkStage(slug: string): Promise<void> {
    try {
      await post('checks', { stage: slug });
      await this.refresh();
    } catch (error) {
      void showErrorMessage('Checks failed to run', (error as Error).message);
    }
  }

  async signOff(item: IItem): Promise<void> {
    if (!this.status) {
      return;
    }
    const value = await askSignoff(item, this.status.roles, this.status.user);
    if (!value) {
      return;
    }
    try {
      await post('signoffs', { item: item.id, ...value });
      await this.refresh();
    } catch (error) {
      const e = error as APIError;
      const details = (e.errors ?? []).map(f => `${f.field}: ${f.message}`).join('\n');
      void showErrorMessage('Sign-off refused', details ? `${e.message}\n${details}` : e.message);
    }
  }

  protected onAfterShow(msg: Message): void {
    void this.refresh();
    this.startPolling();
  }

  protected onAfterAttach(msg: Message): void {
    this.startPolling();
  }

  protected onBeforeDetach(msg: Message): void {
    window.clearInterval(this._poll);
    this._poll = 0;
  }

  private startPolling(): void {
    if (!this._poll) {
      // Another tab, the CLI or a wizard kernel may change the project: poll while visible.
      this._poll = window.setInterval(() => {
        if (this.isVisible && document.visibilityState === 'visible') {
          void this.refresh();
        }
      }, POLL_MS);
    }
  }

  private async followRun(slug: string, runId: string): Promise<void> {
    let failures = 0;
    for (;;) {
      await new Promise(resolve => setTimeout(resolve, RUN_POLL_MS));
      let progress: IRunProgress;
      try {
        progress = await requestAPI<IRunProgress>(`runs/${runId}`);
        failures = 0;
      } catch (error) {
        if (++failures >= 30) {
          void showErrorMessage('Lost track of the run', (error as Error).message);
          return;
        }
        continue;
      }
      this.runs.set(slug, progress);
      this.render();
      if (progress.state === 'succeeded' || progress.state === 'failed') {
        await this.refresh();
        return;
      }
    }
  }

  // -- rendering ----------------------------------------------------------------------------

  private replace(...children: HTMLElement[]): void {
    const top = this.node.scrollTop;
    this.node.replaceChildren(...children);
    this.node.scrollTop = top;
  }

  private header(subtitle: string): HTMLElement {
    return h(
      'header',
      { class: 'jp-MLOpsAccelerator-header' },
      h('h2', {}, 'MLOps Accelerator'),
      h('div', { class: 'jp-MLOpsAccelerator-project' }, subtitle)
    );
  }

  private renderMessage(text: string, isError = false): void {
    this.replace(
      this.header(''),
      h('p', { class: `jp-MLOpsAccelerator-message${isError ? ' jp-mod-error' : ''}` }, text)
    );
  }

  private renderCreate(): void {
    const input = h('input', {
      class: 'jp-mod-styled',
      name: 'project-name',
      placeholder: 'project-name',
      value: 'my-mlops-project',
      'aria-label': 'Project name'
    }) as HTMLInputElement;
    const errors = h('ul', { class: 'jp-MLOpsAccelerator-errors' });
    const create = async () => {
      errors.replaceChildren();
      try {
        await post('project', { name: input.value });
        await this.refresh();
      } catch (error) {
        const e = error as APIError;
        const lines = e.errors?.length ? e.errors.map(f => `${f.field}: ${f.message}`) : [e.message];
        errors.replaceChildren(...lines.map(l => h('li', {}, l)));
      }
    };
    this.replace(
      this.header('No project in this folder'),
      h(
        'div',
        { class: 'jp-MLOpsAccelerator-create' },
        h(
          'p',
          {},
          'This Jupyter folder holds no MLOps Accelerator project yet. Create one to ' +
            'follow the seven stages, record settings and track deliverables.'
        ),
        h('label', {}, h('span', {}, 'Project name (lowercase, hyphens)'), input),
        h(
          'button',
          { class: 'jp-Button jp-mod-styled jp-mod-accept', 'data-action': 'create', onclick: create },
          'Create project'
        ),
        errors
      )
    );
  }

  private render(): void {
    const status = this.status;
    if (!status) {
      return;
    }
    const roleNames = new Map(status.roles.map(r => [r.id, r.name]));
    const used = new Set(status.stages.flatMap(s => s.roles));
    const filter = h(
      'select',
      {
        class: 'jp-mod-styled jp-MLOpsAccelerator-roleFilter',
        'aria-label': 'Filter stages by role',
        onchange: (ev: Event) => {
          this.role = (ev.target as HTMLSelectElement).value;
          this.render();
        }
      },
      h('option', { value: '' }, 'All roles'),
      ...status.roles
        .filter(r => used.has(r.id))
        .map(r => h('option', { value: r.id, selected: r.id === this.role }, r.name))
    );
    const stages = status.stages.filter(s => !this.role || s.roles.includes(this.role));
    const done = status.stages.reduce((n, s) => n + s.deliverables.done, 0);
    const total = status.stages.reduce((n, s) => n + s.deliverables.total, 0);
    this.replace(
      this.header(`${status.project} · ${done}/${total} deliverables done`),
      h(
        'div',
        { class: 'jp-MLOpsAccelerator-toolbar' },
        h('label', {}, h('span', {}, 'Role'), filter),
        h(
          'button',
          {
            class: 'jp-Button jp-mod-minimal jp-MLOpsAccelerator-refresh',
            title: 'Refresh',
            onclick: () => void this.refresh()
          },
          '↻'
        )
      ),
      h(
        'ol',
        { class: 'jp-MLOpsAccelerator-stages' },
        ...stages.map(s => this.renderStage(s, roleNames))
      )
    );
  }

  private renderStage(stage: IStageStatus, roleNames: Map<string, string>): HTMLElement {
    const d = stage.deliverables;
    const pct = d.total ? Math.round((100 * d.done) / d.total) : 100;
    const open = this.expanded.has(stage.slug);
    const toggle = () => {
      if (open) {
        this.expanded.delete(stage.slug);
      } else {
        this.expanded.add(stage.slug);
      }
      this.render();
    };
    const findings = this.findingsOf(stage.slug);
    const everyone = stage.roles.length >= roleNames.size;
    const badges = everyone
      ? [
          h(
            'span',
            {
              class: `jp-MLOpsAccelerator-role${this.role ? ' jp-mod-active' : ''}`,
              title: 'Every role takes part in this stage',
              'data-role': 'everyone'
            },
            'Everyone'
          )
        ]
      : stage.roles.map(id =>
      h(
        'span',
        {
          class: `jp-MLOpsAccelerator-role${id === this.role ? ' jp-mod-active' : ''}`,
          title: roleNames.get(id) ?? id,
          'data-role': id
        },
        initials(roleNames.get(id) ?? id)
      )
    );
    return h(
      'li',
      { class: `jp-MLOpsAccelerator-stage${open ? ' jp-mod-expanded' : ''}`, 'data-stage': String(stage.number) },
      h(
        'button',
        { class: 'jp-MLOpsAccelerator-stageHead', 'aria-expanded': String(open), onclick: toggle },
        h('span', { class: 'jp-MLOpsAccelerator-number' }, String(stage.number)),
        h('span', { class: 'jp-MLOpsAccelerator-title' }, stage.title),
        findings.length
          ? h(
              'span',
              { class: 'jp-MLOpsAccelerator-findingCount', title: 'Azure pre-flight findings' },
              `⚠ ${findings.length}`,
              h('span', { class: 'jp-MLOpsAccelerator-srOnly' }, ' Azure pre-flight finding(s)')
            )
          : null,
        h('span', { class: 'jp-MLOpsAccelerator-count' }, `${d.done}/${d.total}`)
      ),
      h(
        'div',
        {
          class: 'jp-MLOpsAccelerator-progress',
          role: 'progressbar',
          'aria-valuenow': String(pct),
          'aria-valuemin': '0',
          'aria-valuemax': '100',
          title: `${d.done} of ${d.total} deliverables done` +
            (d.failed ? `, ${d.failed} failed` : '') +
            (d.awaiting_signoff ? `, ${d.awaiting_signoff} awaiting sign-off` : '')
        },
        h('div', { class: 'jp-MLOpsAccelerator-bar', style: `width: ${pct}%` })
      ),
      h('div', { class: 'jp-MLOpsAccelerator-roles' }, ...badges),
      open ? this.renderBody(stage) : null
    );
  }

  private renderBody(stage: IStageStatus): HTMLElement {
    const button = (label: string, action: string, onclick: () => void, extra = '') =>
      h('button', { class: `jp-Button jp-mod-styled ${extra}`, 'data-action': action, onclick }, label);
    const run = this.runs.get(stage.slug);
    const running = run && (run.state === 'queued' || run.state === 'running');
    const onAzure = this.targets.get(stage.slug) === 'azureml';
    const actions = h(
      'div',
      { class: 'jp-MLOpsAccelerator-actions' },
      button('Open wizard', 'wizard', () => void this.openWizard(stage.number), 'jp-mod-accept'),
      this.status?.voila ? button('Voila preview', 'voila', () => void this.openWizard(stage.number, true)) : null,
      button(running ? 'Running…' : onAzure ? 'Run on Azure ML' : 'Run stage', 'run', () => void this.runStage(stage.slug)),
      button('Check', 'check', () => void this.checkStage(stage.slug))
    );
    if (running) {
      actions.querySelector('[data-action="run"]')?.setAttribute('disabled', '');
    }
    const settings = stage.settings.valid
      ? null
      : h(
          'div',
          { class: 'jp-MLOpsAccelerator-invalid' },
          `${stage.settings.errors.length} invalid setting(s): ` +
            stage.settings.errors.map(e => `${e.field}: ${e.message}`).join('; ')
        );
    const last = stage.last_run && !run
      ? h(
          'div',
          { class: 'jp-MLOpsAccelerator-lastRun' },
          `Last run ${stage.last_run.ts.slice(0, 16).replace('T', ' ')}: ${stage.last_run.status} `,
          stage.last_run.run_dir ? this.link('open folder', stage.last_run.run_dir, 'filebrowser:go-to-path') : null
        )
      : null;
    return h(
      'div',
      { class: 'jp-MLOpsAccelerator-body' },
      this.renderTarget(stage.slug),
      actions,
      settings,
      this.renderFindings(stage.slug),
      run ? this.renderRun(run) : last,
      h('ul', { class: 'jp-MLOpsAccelerator-items' }, ...stage.items.map(i => this.renderItem(i)))
    );
  }

  /** Where the stage's notebooks run, offered only where the azureml target covers the stage. */
  private renderTarget(slug: string): HTMLElement | null {
    if (!this.status?.azureml_stages?.includes(slug)) {
      return null;
    }
    const current = this.targets.get(slug) ?? 'local';
    const select = h(
      'select',
      {
        class: 'jp-mod-styled',
        name: 'target',
        'data-action': 'target',
        title: 'Azure ML: sign-in and the pre-flight checks come first; findings appear below',
        onchange: (ev: Event) => {
          this.targets.set(slug, (ev.target as HTMLSelectElement).value);
          this.render();
        }
      },
      h('option', { value: 'local', selected: current === 'local' }, 'This machine'),
      h('option', { value: 'azureml', selected: current === 'azureml' }, 'Azure ML')
    );
    return h('label', { class: 'jp-MLOpsAccelerator-target' }, h('span', {}, 'Run on'), select);
  }

  /** The last pre-flight's findings that name a setting of this stage. */
  private findingsOf(slug: string): IPreflightFinding[] {
    return (this.status?.preflight ?? []).filter(f => f.setting.startsWith(`${slug}.`));
  }

  /** The findings beside the settings they name: informative, they block nothing here. */
  private renderFindings(slug: string): HTMLElement | null {
    const findings = this.findingsOf(slug);
    if (!findings.length) {
      return null;
    }
    const at = this.status?.preflight_at;
    return h(
      'div',
      { class: 'jp-MLOpsAccelerator-findings', 'data-findings': String(findings.length) },
      h(
        'div',
        { class: 'jp-MLOpsAccelerator-findingsHead' },
        `Azure pre-flight${at ? ` of ${at.slice(0, 16).replace('T', ' ')}` : ''}: ` +
          `${findings.length} finding(s) to fix in the settings`
      ),
      h(
        'ul',
        {},
        ...findings.map(f => {
          const setting = f.setting.slice(slug.length + 1);
          return h(
            'li',
            { 'data-setting': setting },
            h('code', {}, setting),
            ` (${f.env}, ${f.check}): ${f.message}`
          );
        })
      )
    );
  }

  private link(label: string, path: string, command = 'docmanager:open'): HTMLElement {
    return h(
      'a',
      {
        href: '#',
        class: 'jp-MLOpsAccelerator-link',
        'data-path': path,
        title: path,
        onclick: (ev: Event) => {
          ev.preventDefault();
          void this.commands.execute(command, { path });
        }
      },
      label
    );
  }

  private renderRun(run: IRunProgress): HTMLElement {
    const total = run.total ?? 0;
    const pct = total ? Math.round((100 * run.finished) / total) : 0;
    const label =
      run.state === 'succeeded'
        ? `Run ${run.run_id} succeeded: ${run.finished} notebook(s)`
        : run.state === 'failed'
          ? `Run ${run.run_id} failed`
          : `Running ${run.finished}/${total || '?'} notebook(s)…`;
    const notebooks = run.outputs.filter(p => p.endsWith('.ipynb'));
    const others = run.outputs.filter(p => !p.endsWith('.ipynb'));
    const failed = run.notebooks.filter(n => n.error);
    return h(
      'div',
      { class: `jp-MLOpsAccelerator-run jp-mod-${run.state}`, 'data-run': run.run_id, 'data-state': run.state },
      h('div', { class: 'jp-MLOpsAccelerator-runLabel' }, label),
      run.state === 'queued' || run.state === 'running'
        ? h(
            'div',
            { class: 'jp-MLOpsAccelerator-progress jp-mod-run', role: 'progressbar', 'aria-valuenow': String(pct) },
            h('div', { class: 'jp-MLOpsAccelerator-bar', style: `width: ${Math.max(pct, 4)}%` })
          )
        : null,
      ...failed.map(n =>
        h(
          'div',
          { class: 'jp-MLOpsAccelerator-runError', 'data-notebook': n.notebook ?? '' },
          `${n.notebook}: ${describeError(n.error)}`
        )
      ),
      renderJobs(run.jobs ?? []),
      run.state === 'failed' && !failed.length && run.log_tail
        ? h('pre', { class: 'jp-MLOpsAccelerator-log' }, failure(run.log_tail))
        : null,
      notebooks.length || others.length
        ? h(
            'ul',
            { class: 'jp-MLOpsAccelerator-outputs' },
            ...[...notebooks, ...others.slice(0, 8)].map(p =>
              h('li', {}, this.link(p.split('/').slice(-1)[0], p))
            )
          )
        : null,
      run.run_dir && (run.state === 'succeeded' || run.state === 'failed')
        ? this.link('Show run folder', run.run_dir, 'filebrowser:go-to-path')
        : null
    );
  }

  private renderItem(item: IItem): HTMLElement {
    const signed = item.signoffs.map(s =>
      h(
        'div',
        { class: 'jp-MLOpsAccelerator-signed' },
        `✔ signed by ${s.by} (${s.role}) on ${s.ts.slice(0, 10)}${s.comment ? `: ${s.comment}` : ''}`
      )
    );
    const check = item.check
      ? h(
          'div',
          { class: `jp-MLOpsAccelerator-check ${checkClass(item)}`, 'data-check': checkClass(item) },
          `${checkLabel(item)}: ${item.stale ? item.reason : item.check.reason}`
        )
      : null;
    const canSign =
      item.signoff_roles.length > 0 &&
      item.state !== 'not_applicable' &&
      (item.signoffs.length === 0 || item.reapproval !== null);
    return h(
      'li',
      { class: `jp-MLOpsAccelerator-item jp-mod-${item.state}`, 'data-item': item.id, title: item.reason },
      h(
        'div',
        { class: 'jp-MLOpsAccelerator-itemHead' },
        h('span', { class: `jp-MLOpsAccelerator-state jp-mod-${item.state}` }, STATE_LABEL[item.state] ?? item.state),
        h('span', { class: 'jp-MLOpsAccelerator-itemId' }, item.id),
        canSign
          ? h(
              'button',
              {
                class: 'jp-Button jp-mod-minimal jp-MLOpsAccelerator-signButton',
                'data-action': 'signoff',
                title: `Sign off (${item.signoff_roles.join(', ')})`,
                onclick: () => void this.signOff(item)
              },
              'Sign off'
            )
          : null
      ),
      h('div', { class: 'jp-MLOpsAccelerator-itemText' }, item.text),
      check ?? (item.state !== 'done' ? h('div', { class: 'jp-MLOpsAccelerator-reason' }, item.reason) : null),
      ...signed,
      item.reapproval ? renderReapproval(item.reapproval) : null
    );
  }

  status: IStatus | null = null;
  role = '';
  readonly expanded = new Set<string>();
  readonly targets = new Map<string, string>(); // stage slug -> 'local' | 'azureml', as chosen
  readonly runs = new Map<string, IRunProgress>();
  private _signature = '';
  private _noProject = false;
  private _poll = 0;
}

/** Why a run failed, from its log: the CLI's last 'error:' line (whole: an Azure sign-in error is long and
 * ends with what to do), else the log's last lines. */
function failure(log: string): string {
  const line = log.split('\n').reverse().find(l => l.startsWith('error:'));
  return line ? line.slice(0, 2000) : log.slice(-600);
}

/** An azureml run's jobs: each notebook's Azure ML job, its status and a link to it in the studio. */
function renderJobs(jobs: IAzureJob[]): HTMLElement | null {
  if (!jobs.length) {
    return null;
  }
  return h(
    'ul',
    { class: 'jp-MLOpsAccelerator-jobs', 'aria-label': 'Azure ML jobs' },
    ...jobs.map(j =>
      h(
        'li',
        { 'data-job': j.job },
        `${j.key.split('/').slice(-1)[0]}: `,
        j.studio_url?.startsWith('https://')
          ? h(
              'a',
              { class: 'jp-MLOpsAccelerator-link', href: j.studio_url, target: '_blank', rel: 'noopener noreferrer' },
              j.job
            )
          : h('code', {}, j.job),
        j.status ? ` · ${j.status}` : ''
      )
    )
  );
}

/** A failed notebook's error as the server reports it: the cell, the exception and its message. */
export function describeError(error: INotebookError | null): string {
  if (!error) {
    return 'failed';
  }
  const cell = error.cell_index !== null && error.cell_index !== undefined ? `cell ${error.cell_index}: ` : '';
  return `${cell}${error.ename}: ${error.evalue}`;
}

/** How the latest check reads now: a pending check is to do, and a stale one no longer counts. */
function checkClass(item: IItem): string {
  if (item.stale) {
    return 'jp-mod-stale';
  }
  if (item.check?.pending) {
    return 'jp-mod-todo';
  }
  return item.check?.passed ? 'jp-mod-pass' : 'jp-mod-fail';
}

function checkLabel(item: IItem): string {
  if (item.stale) {
    return 'stale, re-check';
  }
  if (item.check?.pending) {
    return 'to do';
  }
  return item.check?.passed ? 'check passed' : 'check failed';
}

/** What changed in the stage since it was signed off: the sign-off must be given again. */
function renderReapproval(r: IReapproval): HTMLElement {
  const shown = r.changes.slice(0, 5).map(c =>
    h('li', {}, `${c.field}: ${JSON.stringify(c.old ?? null)} → ${JSON.stringify(c.new ?? null)}`)
  );
  const more = r.changes.length > 5 ? [h('li', {}, `and ${r.changes.length - 5} more`)] : [];
  return h(
    'div',
    { class: 'jp-MLOpsAccelerator-reapproval', 'data-reapproval': String(r.changes.length) },
    `Changed since ${r.by ?? 'someone'} signed off on ${r.ts.slice(0, 10)}: re-approval needed`,
    h('ul', {}, ...shown, ...more)
  );
}
