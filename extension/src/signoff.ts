/**
 * The sign-off dialog: who signs, in which role (only the roles allowed for the item), a comment.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IItem, IRole } from './api';

export interface ISignoffValue {
  by: string;
  role: string;
  comment: string;
}

class SignoffForm extends Widget implements Dialog.IBodyWidget<ISignoffValue> {
  constructor(item: IItem, roles: IRole[], user: string) {
    super();
    this.addClass('jp-MLOpsAccelerator-signoffForm');
    const names = new Map(roles.map(r => [r.id, r.name]));

    const what = document.createElement('p');
    what.textContent = `${item.id}: ${item.text}`;

    this._by = document.createElement('input');
    this._by.className = 'jp-mod-styled';
    this._by.name = 'by';
    this._by.value = user;
    this._by.placeholder = 'Your name';

    this._role = document.createElement('select');
    this._role.className = 'jp-mod-styled';
    this._role.name = 'role';
    for (const id of item.signoff_roles) {
      const option = document.createElement('option');
      option.value = id;
      option.textContent = names.get(id) ?? id;
      this._role.appendChild(option);
    }

    this._comment = document.createElement('textarea');
    this._comment.className = 'jp-mod-styled';
    this._comment.name = 'comment';
    this._comment.rows = 3;
    this._comment.placeholder = 'Evidence or remarks (optional)';

    const field = (label: string, control: HTMLElement) => {
      const l = document.createElement('label');
      const span = document.createElement('span');
      span.textContent = label;
      l.append(span, control);
      return l;
    };
    this.node.append(
      what,
      field('Signed off by', this._by),
      field('Role', this._role),
      field('Comment', this._comment)
    );
  }

  getValue(): ISignoffValue {
    return {
      by: this._by.value.trim(),
      role: this._role.value,
      comment: this._comment.value.trim()
    };
  }

  private _by: HTMLInputElement;
  private _role: HTMLSelectElement;
  private _comment: HTMLTextAreaElement;
}

/** Ask for a sign-off; null when cancelled. */
export async function askSignoff(
  item: IItem,
  roles: IRole[],
  user: string
): Promise<ISignoffValue | null> {
  const result = await showDialog<ISignoffValue>({
    title: `Sign off ${item.id}`,
    body: new SignoffForm(item, roles, user),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Sign off' })],
    focusNodeSelector: 'input'
  });
  return result.button.accept ? result.value : null;
}
