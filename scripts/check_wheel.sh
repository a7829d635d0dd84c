#!/usr/bin/env bash
# Build the wheel with `python -m build` (node needed here only), install it in a fresh virtual
# environment with node hidden from PATH, and check that JupyterLab lists the labextension and
# the server extension enabled and serves the panel (a browser test against that environment).
#
# Usage: scripts/check_wheel.sh            (from anywhere; uses .venv for build + browser test)
# Env:   PYTHON (default .venv/bin/python), KEEP=1 keeps the temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
BIN=$(dirname "$PYTHON")
WORK=$(mktemp -d /tmp/mlops-wheel.XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "clean JS build outputs (the wheel must not reuse a dev bundle)"
PATH="$BIN:$PATH" "$BIN/jlpm" clean:all >/dev/null

step "python -m build (sdist, then the wheel from the sdist)"
"$PYTHON" -m pip install --quiet build
PATH="$BIN:$PATH" "$PYTHON" -m build --outdir "$WORK/dist" . > "$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log"; exit 1; }
WHEEL=$(ls "$WORK"/dist/*.whl)
echo "built $(basename "$WHEEL")"
"$PYTHON" - "$WHEEL" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
need = ["share/jupyter/labextensions/mlops-accelerator/package.json",
        "share/jupyter/labextensions/mlops-accelerator/install.json",
        "etc/jupyter/jupyter_server_config.d/mlops_accelerator.json",
        # the wizards and stage templates ship inside the package
        "mlops_accelerator/wizards/home.ipynb",
        "mlops_accelerator/notebooks/01-foundations/01-maturity-assessment.ipynb",
        "mlops_accelerator/catalogue.yaml"]
for n in need:
    assert any(x.endswith(n) for x in names), f"wheel lacks {n}"
assert any("labextensions/mlops-accelerator/static/remoteEntry." in x for x in names), "no remoteEntry"
dev = [x for x in names if x.endswith(".js.map")]
print(f"wheel carries the prebuilt labextension ({len(names)} files, {len(dev)} source maps)")
PY

step "fresh virtual environment with node hidden"
"$PYTHON" -m venv "$WORK/venv"
NO_NODE_PATH="$WORK/venv/bin"   # nothing else: no node, npm, jlpm or yarn
env -i HOME="$WORK" PATH="$NO_NODE_PATH" /bin/bash -c '! command -v node && ! command -v npm' >/dev/null \
  || { echo "node is still visible"; exit 1; }
env -i HOME="$WORK" PATH="$NO_NODE_PATH" PIP_DISABLE_PIP_VERSION_CHECK=1 \
  ${PIP_FIND_LINKS:+PIP_FIND_LINKS="$PIP_FIND_LINKS"} ${PIP_CERT:+PIP_CERT="$PIP_CERT"} \
  "$WORK/venv/bin/python" -m pip install --quiet "$WHEEL"

step "jupyter labextension list / jupyter server extension list"
run() { { env -i HOME="$WORK" PATH="$NO_NODE_PATH" "$@" 2>&1 || echo "(exit code $?)"; } | sed 's/\x1b\[[0-9;]*m//g'; }
LAB=$(run "$WORK/venv/bin/jupyter" labextension list)
SRV=$(run "$WORK/venv/bin/jupyter" server extension list)
echo "$LAB" | grep -E "mlops-accelerator v[0-9.]+ enabled OK" \
  || { echo "$LAB"; echo "FAIL: labextension not listed enabled"; exit 1; }
echo "$SRV" | grep -E "mlops_accelerator enabled" \
  || { echo "$SRV"; echo "FAIL: server extension not enabled"; exit 1; }
echo "$SRV" | grep -E "mlops_accelerator [0-9.]+ OK" \
  || { echo "$SRV"; echo "FAIL: server extension does not validate"; exit 1; }

step "the installed JupyterLab serves the panel (browser test, lab from the fresh venv)"
LAB_PYTHON="$WORK/venv/bin/python" "$BIN/pytest" -q "$REPO/tests/ui/lab" -k "seven_stages" -p no:randomly

step "wheel check passed"
