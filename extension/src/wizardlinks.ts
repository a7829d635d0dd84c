/**
 * Links between wizards inside JupyterLab ("All stages", "Stage N", "Continue to stage N+1", the home
 * page's stage cards). They are plain relative links (`03-deploy.ipynb`), right for Voila; in
 * JupyterLab the browser would leave the app for an unrun notebook. Here a click on such a link
 * opens the target notebook beside the one it is in, rendered: its code hidden and its cell run.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { showErrorMessage } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

/** Where the wizards draw (the form widget, the home page, the notes of a stage without a project). */
const WIZARD = '.mlops-app';

interface IDocumentWidget extends Widget {
  context?: { path: string; sessionContext?: { ready: Promise<void> } };
}

let shell: JupyterFrontEnd.IShell | null = null; // set by routeWizardLinks

function isOpen(path: string): boolean {
  return shell !== null && Array.from(shell.widgets('main')).some(w => (w as IDocumentWidget).context?.path === path);
}

/** Open a notebook rendered: code hidden, its cells run (unless it is open in a tab and drawn there). */
export async function openRendered(commands: CommandRegistry, path: string): Promise<void> {
  const wasOpen = isOpen(path);
  const widget = (await commands.execute('docmanager:open', { path })) as IDocumentWidget | undefined;
  await widget?.context?.sessionContext?.ready;
  if (wasOpen && widget?.node.querySelector(`.jp-OutputArea ${WIZARD}`)) {
    return; // already in a tab and drawn: showing it keeps what the person typed there
  }
  for (const command of ['notebook:hide-all-cell-code', 'notebook:run-all-cells']) {
    if (commands.hasCommand(command)) {
      await commands.execute(command);
    }
  }
}

/** The notebook (its path) whose output holds this element. */
function notebookOf(app: JupyterFrontEnd, el: Element): string | null {
  for (const widget of app.shell.widgets('main')) {
    const doc = widget as IDocumentWidget;
    if (doc.context && doc.node.contains(el)) {
      return doc.context.path;
    }
  }
  return null;
}

/** The target path of a wizard link, or null for anything else (external, anchors, downloads). */
export function wizardTarget(href: string | null, from: string): string | null {
  if (!href || /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('/') || href.startsWith('#')) {
    return null;
  }
  const file = href.split(/[?#]/)[0];
  if (!file.endsWith('.ipynb')) {
    return null;
  }
  return PathExt.join(PathExt.dirname(from), decodeURIComponent(file));
}

/** Route clicks on wizard links (capture phase: before the browser follows the href). */
export function routeWizardLinks(app: JupyterFrontEnd): void {
  shell = app.shell;
  document.addEventListener(
    'click',
    event => {
      if (event.button !== 0 || !(event.target instanceof Element)) {
        return;
      }
      const link = event.target.closest('a');
      if (!link || link.hasAttribute('download') || !link.closest(WIZARD)) {
        return;
      }
      const from = notebookOf(app, link);
      const target = from === null ? null : wizardTarget(link.getAttribute('href'), from);
      if (target === null) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      void openRendered(app.commands, target).catch(error =>
        showErrorMessage('Cannot open the wizard', `${target}: ${(error as Error).message ?? error}`)
      );
    },
    true
  );
}
