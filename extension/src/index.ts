/**
 * JupyterLab plugin: the MLOps Accelerator sidebar, its commands, palette entries and a launcher card.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { LabIcon } from '@jupyterlab/ui-components';

import { ICatalogue, requestAPI } from './api';
import { AcceleratorPanel } from './panel';
import { routeWizardLinks } from './wizardlinks';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="#616161">
    <rect x="3" y="15" width="4" height="6" rx="1"/>
    <rect x="10" y="10" width="4" height="11" rx="1"/>
    <rect x="17" y="4" width="4" height="17" rx="1"/>
    <path d="M3 10.5 9.5 5l3 2.5L18.3 2l1.2 1.3-7 6.6-3-2.5L4.2 12z"/>
  </g>
</svg>`;

export const acceleratorIcon = new LabIcon({ name: 'mlops-accelerator:icon', svgstr: ICON_SVG });

namespace CommandIDs {
  export const open = 'mlops-accelerator:open';
  export const refresh = 'mlops-accelerator:refresh';
  export const openWizard = 'mlops-accelerator:open-wizard';
  export const runStage = 'mlops-accelerator:run-stage';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-accelerator:plugin',
  description: 'MLOps Accelerator for Azure ML: the seven stages in a sidebar.',
  autoStart: true,
  optional: [ICommandPalette, ILauncher, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null
  ) => {
    const panel = new AcceleratorPanel(app.commands);
    panel.title.icon = acceleratorIcon;
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, 'mlops-accelerator');

    // A save in this tab (a wizard, the project file) refreshes at once; others via polling.
    app.serviceManager.contents.fileChanged.connect(() => void panel.refresh());

    const { commands } = app;
    const category = 'MLOps Accelerator';
    commands.addCommand(CommandIDs.open, {
      label: 'MLOps Accelerator',
      caption: 'Show the MLOps Accelerator: seven stages, deliverables and sign-offs',
      icon: args => (args['isPalette'] ? undefined : acceleratorIcon),
      execute: () => {
        app.shell.activateById(panel.id);
        void panel.refresh();
      }
    });
    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh MLOps Accelerator status',
      execute: () => panel.refresh()
    });
    const stageLabel = (args: any, verb: string) =>
      args['stage'] ? `${verb} stage ${args['stage']}` : `${verb} stage`;
    commands.addCommand(CommandIDs.openWizard, {
      label: args => stageLabel(args, 'Open the wizard of'),
      execute: args => panel.openWizard(String(args['stage'] ?? 1))
    });
    commands.addCommand(CommandIDs.runStage, {
      label: args => stageLabel(args, 'Run'),
      execute: args => panel.runStage(String(args['stage'] ?? 1))
    });

    if (palette) {
      palette.addItem({ command: CommandIDs.open, category, args: { isPalette: true } });
      palette.addItem({ command: CommandIDs.refresh, category });
      // The stages come from the server's catalogue: never a copy of the list here.
      void requestAPI<ICatalogue>('stages')
        .then(catalogue =>
          catalogue.stages.forEach(stage => {
            palette.addItem({ command: CommandIDs.openWizard, category, args: { stage: stage.number } });
            palette.addItem({ command: CommandIDs.runStage, category, args: { stage: stage.slug } });
          })
        )
        .catch(error => console.warn('MLOps Accelerator: cannot read the stage catalogue', error));
    }
    launcher?.add({ command: CommandIDs.open, category: 'Other', rank: 1 });
    // "All stages", "Stage N", "Continue to stage N+1" open the other wizards rendered, in the app
    routeWizardLinks(app);

    void app.restored.then(() => panel.refresh());
  }
};

export default plugin;
