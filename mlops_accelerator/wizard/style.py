"""The wizards' look: one stylesheet, shipped inside an HTML widget (works offline, in Voila and Lab)."""

from __future__ import annotations

import ipywidgets as W

# Every colour is a JupyterLab theme variable, so light, dark and high-contrast themes stay legible.
BLUE = "var(--jp-brand-color1, #1976d2)"
RED = "var(--jp-error-color1, #d32f2f)"
# red for small text: error-color1 is below 4.5:1 on the dark theme's notebook grey (set per theme below)
RED_TEXT = "var(--mlops-red-text, #b71c1c)"
GREEN = "var(--jp-success-color1, #388e3c)"
ORANGE = "var(--jp-warn-color1, #f57c00)"
GREY = "var(--jp-ui-font-color2, #555)"
FG = "var(--jp-ui-font-color1, #222)"
BG = "var(--jp-layout-color1, #fff)"
BG2 = "var(--jp-layout-color2, #eee)"
LINE = "var(--jp-border-color2, #e0e0e0)"

CSS = f"""
.mlops-app {{ --mlops-red-text: var(--jp-error-color0, #b71c1c); }}
[data-jp-theme-light="false"] .mlops-app {{ --mlops-red-text: var(--jp-error-color2, #e57373); }}
.mlops-app {{ font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  color: {FG}; max-width: 1180px; margin: 0 auto; font-size: 14px; line-height: 1.45; }}
.mlops-app .widget-html-content, .mlops-app .widget-label {{ font-family: inherit; font-size: 14px;
  line-height: 1.45; }}
.mlops-app .widget-html, .mlops-app .widget-html-content {{ height: auto; width: 100%; }}
/* a full-width HTML widget keeps no side margins: ipywidgets' 2 px made it 2 px wider than its box,
   whose overflow clipped the right edge of the home page's last column of stage cards */
.mlops-app .widget-html {{ margin-left: 0; margin-right: 0; }}
.mlops-app h1, .mlops-app h2, .mlops-app h3 {{ font-weight: 600; margin: 0; }}
.mlops-header {{ display: flex; justify-content: space-between; align-items: flex-end;
  border-bottom: 1px solid {LINE}; padding: 4px 0 12px 0; margin-bottom: 12px; }}
.mlops-header h1 {{ font-size: 24px; line-height: 1.25; }}
.mlops-kicker {{ color: {GREY}; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }}
.mlops-header a, .mlops-app a {{ color: {BLUE}; text-decoration: none; }}
.mlops-header a:hover, .mlops-app a:hover {{ text-decoration: underline; }}
.mlops-muted {{ color: {GREY}; }}
.mlops-small {{ font-size: 12px; }}

/* stepper */
.mlops-stepper {{ gap: 6px; margin: 0 0 16px 0; flex-wrap: wrap; }}
.mlops-app .jupyter-button.mlops-step {{ background: {BG2}; color: {FG}; border-radius: 16px;
  border: 1px solid {LINE}; height: 32px; padding: 0 14px; box-shadow: none; font-size: 13px; }}
.mlops-app .jupyter-button.mlops-step-done {{ background: {BG}; color: {BLUE}; border-color: {LINE}; }}
.mlops-app .jupyter-button.mlops-step-current {{ background: {BLUE}; color: {BG}; border-color: {BLUE};
  font-weight: 600; }}
.mlops-app .jupyter-button.mlops-step:disabled {{ opacity: .55; }}

/* buttons */
.mlops-app .jupyter-button {{ border-radius: 4px; font-family: inherit; flex-shrink: 0; overflow: visible; }}
.mlops-app .widget-vbox > .jupyter-button {{ align-self: flex-start; }}
.mlops-app .widget-vbox > .jupyter-button.mlops-add {{ align-self: stretch; }}
.mlops-app .jupyter-button.mod-primary {{ background: {BLUE}; }}
.mlops-app .jupyter-button.mlops-add {{ background: {BG}; color: {BLUE}; border: 1px dashed {LINE};
  margin-top: 6px; }}
.mlops-app .jupyter-button.mlops-remove {{ background: {BG}; color: {RED}; border: 1px solid {LINE};
  height: 26px; font-size: 12px; }}
.mlops-nav {{ border-top: 1px solid {LINE}; padding-top: 12px; margin-top: 18px;
  justify-content: space-between; }}
.mlops-nav .jupyter-button {{ min-width: 120px; height: 34px; }}

/* forms */
.mlops-task {{ border: 1px solid {LINE}; border-radius: 8px; padding: 12px 16px 14px 16px;
  margin: 0 0 14px 0; background: {BG}; }}
.mlops-task-head {{ font-size: 17px; font-weight: 600; }}
.mlops-task-id {{ color: {BLUE}; font-weight: 600; font-size: 13px; background: {BG}; border-radius: 10px;
  padding: 1px 8px; margin-right: 4px; vertical-align: 2px; }}
.mlops-task-summary {{ color: {GREY}; font-size: 13px; margin: 2px 0 8px 0; max-width: 900px; }}
.mlops-field {{ padding: 4px 0 2px 0; min-width: 0; }}
.mlops-grid {{ grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 4px 22px; }}
.mlops-grid > .mlops-wide {{ grid-column: 1 / -1; }}
.mlops-app .mlops-check-row > .widget-inline-hbox + * {{ margin-left: 4px; }}
.mlops-kind-bool {{ padding-top: 10px; }}
/* Voila 0.5's widget bundle ignores Layout gap/grid_* traits: spacing lives here */
.mlops-app .widget-hbox > .widget-button + *, .mlops-app .widget-hbox > * + .widget-button,
.mlops-app .widget-hbox > .widget-inline-hbox + * {{ margin-left: 10px; }}
.mlops-settings > .mlops-tasknav {{ margin-right: 18px; }}
.mlops-radar-panel .widget-hbox > .widget-html + .widget-html {{ margin-left: 18px; }}
.mlops-signoff-form .widget-gridbox {{ gap: 0 22px; }}
.mlops-label {{ font-weight: 600; font-size: 13.5px; }}
.mlops-help {{ color: {GREY}; font-size: 12.5px; line-height: 1.35; margin-bottom: 3px; }}
.mlops-hint {{ color: {GREY}; }}
.mlops-app .mlops-field .widget-text, .mlops-app .mlops-field .widget-dropdown,
.mlops-app .mlops-field .widget-textarea {{ margin: 2px 0; }}
.mlops-invalid input, .mlops-invalid select, .mlops-invalid textarea {{ border-color: {RED} !important;
  background: {BG} !important; }}
.mlops-error {{ color: {RED_TEXT}; font-size: 12.5px; line-height: 1.35; margin-top: 2px; }}
.mlops-error-line {{ margin: 1px 0; }}
.mlops-rule {{ font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; color: {RED_TEXT};
  background: {BG}; border-radius: 3px; padding: 0 4px; white-space: nowrap; }}
.mlops-got {{ color: {FG}; }}
.mlops-record {{ border-left: 3px solid {LINE}; padding-left: 12px; margin: 4px 0; }}
.mlops-rows {{ gap: 8px; }}
.mlops-row {{ border: 1px solid {LINE}; border-radius: 6px; padding: 6px 10px 8px 10px;
  background: {BG}; margin: 4px 0; }}
.mlops-row .mlops-record {{ border-left: none; padding-left: 0; margin: 0; }}
.mlops-row-head {{ border-bottom: 1px solid {LINE}; padding-bottom: 4px; margin-bottom: 2px; }}
.mlops-row-title {{ font-weight: 600; font-size: 13px; color: {FG}; }}
.mlops-row-summary {{ font-weight: 400; color: {GREY}; }}
.mlops-empty {{ color: {GREY}; font-style: italic; font-size: 13px; }}
.mlops-multi .widget-checkbox {{ margin-right: 16px; }}
.mlops-summary-errors {{ border: 1px solid {LINE}; background: {BG}; color: {FG};
  border-radius: 6px; padding: 8px 12px; margin-bottom: 12px; font-size: 13px; }}
.mlops-summary-errors ul {{ margin: 4px 0 0 0; padding-left: 20px; }}

/* settings navigation */
.mlops-tasknav {{ gap: 4px; }}
.mlops-app .jupyter-button.mlops-tasklink {{ justify-content: flex-start; text-align: left; background: {BG};
  color: {FG}; border: 1px solid transparent; border-radius: 6px; height: auto; min-height: 34px;
  padding: 6px 10px; white-space: normal; line-height: 1.3; box-shadow: none; font-size: 13px; }}
.mlops-app .jupyter-button.mlops-tasklink-current {{ background: {BG}; border-color: {LINE};
  color: {BLUE}; font-weight: 600; }}
.mlops-app .jupyter-button.mlops-tasklink-bad {{ color: {RED_TEXT}; }}

/* notes and panels */
.mlops-card {{ border: 1px solid {LINE}; border-radius: 8px; padding: 12px 16px; background: {BG};
  margin-bottom: 12px; box-sizing: border-box; min-width: 0; }}
.mlops-card h3 {{ font-size: 16px; margin-bottom: 6px; }}
.mlops-note {{ border-radius: 6px; padding: 10px 14px; margin: 8px 0; font-size: 13.5px; box-sizing: border-box; }}
.mlops-note.ok {{ background: {BG}; border: 1px solid {LINE}; color: {FG}; }}
.mlops-note.warn {{ background: {BG}; border: 1px solid {LINE}; color: {FG}; }}
.mlops-note.bad {{ background: {BG}; border: 1px solid {LINE}; color: {FG}; }}
.mlops-note.info {{ background: {BG}; border: 1px solid {LINE}; color: {FG}; }}
.mlops-chip {{ display: inline-block; background: {BG2}; color: {FG}; border-radius: 10px;
  padding: 1px 9px; margin: 2px 4px 2px 0; font-size: 12px; max-width: 100%; box-sizing: border-box; }}
.mlops-chip.me {{ background: {BLUE}; color: {BG}; }}
.mlops-table {{ border-collapse: collapse; width: 100%; font-size: 13px; }}
.mlops-table th {{ text-align: left; color: {GREY}; font-weight: 600; border-bottom: 2px solid {LINE};
  padding: 6px 8px; }}
.mlops-table td {{ border-bottom: 1px solid {LINE}; padding: 6px 8px; vertical-align: top; }}
.mlops-table code, .mlops-app code {{ font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
  background: {BG2}; color: {FG}; border-radius: 3px; padding: 0 4px; word-break: break-all; }}
.mlops-old {{ color: {FG}; text-decoration: line-through; }}
.mlops-new {{ color: {FG}; font-weight: 600; }}
/* states: the text in the theme's text colour (legible), the state's colour on the border and dot */
.mlops-state {{ display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; color: {FG};
  background: {BG}; border: 1px solid {LINE}; font-weight: 600; white-space: nowrap; }}
.mlops-state::before {{ content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%;
  margin-right: 5px; background: {GREY}; vertical-align: 0; }}
.mlops-state.done, .mlops-state.succeeded {{ border-color: {GREEN}; }}
.mlops-state.done::before, .mlops-state.succeeded::before {{ background: {GREEN}; }}
.mlops-state.failed {{ border-color: {RED}; }}
.mlops-state.failed::before {{ background: {RED}; }}
.mlops-state.awaiting_signoff, .mlops-state.running {{ border-color: {ORANGE}; }}
.mlops-state.awaiting_signoff::before, .mlops-state.running::before {{ background: {ORANGE}; }}
.mlops-state.todo, .mlops-state.queued, .mlops-state.pending {{ background: {BG2}; }}
.mlops-state.not_applicable, .mlops-state.skipped {{ color: {GREY}; }}
.mlops-logpre {{ font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; line-height: 1.45;
  background: {BG2} !important; color: {FG} !important; border-radius: 6px; padding: 10px 12px !important;
  margin: 4px 0 !important; max-height: 280px; overflow: auto; white-space: pre-wrap; }}
.mlops-guide-grid {{ display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 14px;
  padding-right: 2px; }}
.mlops-guide-grid ol, .mlops-guide-grid ul {{ margin: 4px 0; padding-left: 20px; }}
.mlops-guide-grid li {{ margin: 5px 0; }}
.mlops-progress {{ height: 8px; background: {BG2}; border-radius: 4px; overflow: hidden; }}
.mlops-progress span {{ display: block; height: 8px; background: {GREEN}; border-radius: 4px; }}

/* home and board */
.mlops-stages {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 12px; }}
.mlops-stage {{ border: 1px solid {LINE}; border-radius: 8px; padding: 12px 14px; background: {BG};
  display: flex; flex-direction: column; gap: 6px; }}
.mlops-stage.dim {{ opacity: .42; }}
.mlops-stage.mine {{ border-color: {BLUE}; box-shadow: 0 0 0 1px {BLUE} inset; }}
.mlops-stage h3 {{ font-size: 15px; line-height: 1.3; }}
.mlops-stage .num {{ color: {BLUE}; font-weight: 700; }}
.mlops-stage .open {{ margin-top: auto; font-weight: 600; }}
.mlops-board {{ display: grid; grid-template-columns: repeat(7, minmax(128px, 1fr)); gap: 8px;
  overflow-x: auto; }}
.mlops-col {{ background: {BG2}; border-radius: 8px; padding: 8px; min-width: 0; }}
.mlops-col h4 {{ font-size: 12.5px; margin: 0 0 6px 0; font-weight: 600; }}
.mlops-item {{ font-size: 11.5px; line-height: 1.3; background: {BG}; border-left: 4px solid {LINE};
  border-radius: 4px; padding: 4px 6px; margin: 5px 0; box-shadow: 0 1px 1px rgba(0,0,0,.06); }}
.mlops-item b {{ font-size: 11px; }}
.mlops-item.done {{ border-color: {GREEN}; }}
.mlops-item.failed {{ border-color: {RED}; background: {BG}; }}
.mlops-item.awaiting_signoff {{ border-color: {ORANGE}; }}
.mlops-item.not_applicable {{ opacity: .45; }}
.mlops-item.mine {{ box-shadow: 0 0 0 2px {BLUE}; }}
.mlops-legend span {{ margin-right: 14px; font-size: 12px; color: {GREY}; }}
.mlops-legend i {{ display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px;
  vertical-align: -1px; }}
.mlops-kpis {{ display: flex; gap: 12px; margin: 4px 0 14px 0; flex-wrap: wrap; }}
.mlops-kpi {{ border: 1px solid {LINE}; border-radius: 8px; padding: 8px 16px; background: {BG}; }}
.mlops-kpi b {{ display: block; font-size: 22px; line-height: 1.2; }}
.mlops-kpi span {{ color: {GREY}; font-size: 12px; }}
.mlops-outputs li {{ margin: 3px 0; }}
"""


def stylesheet() -> W.HTML:
    """An (invisible) widget carrying the stylesheet; include it once per app."""
    w = W.HTML(f"<style>{CSS}</style>", layout=W.Layout(height="0px", margin="0", overflow="hidden"))
    w.add_class("mlops-style")
    return w


def note(kind: str, html_text: str) -> str:
    return f'<div class="mlops-note {kind}">{html_text}</div>'


def state_badge(state: str, label: str | None = None) -> str:
    labels = {"done": "done", "failed": "failed", "awaiting_signoff": "awaiting sign-off", "todo": "to do",
              "not_applicable": "n/a"}
    return f'<span class="mlops-state {state}">{label or labels.get(state, state)}</span>'


def progress_bar(done: int, total: int) -> str:
    pct = 100 * done / total if total else 0
    return f'<div class="mlops-progress"><span style="width:{pct:.0f}%"></span></div>'
