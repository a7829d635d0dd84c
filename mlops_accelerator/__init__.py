"""MLOps Accelerator for Azure ML: the seven-stage guided workflow as software.

Importing the package is cheap on purpose: heavy libraries (azure.ai.ml, papermill,
jupyter, matplotlib) are imported only inside the functions that need them.
"""

__version__ = "0.1.0"


def _jupyter_labextension_paths():
    """The prebuilt JupyterLab extension shipped in the wheel."""
    return [{"src": "labextension", "dest": "mlops-accelerator"}]


def _jupyter_server_extension_points():
    """Jupyter server extension: the REST API under `<base_url>/mlops-accelerator/`."""
    return [{"module": "mlops_accelerator"}]


def _load_jupyter_server_extension(serverapp):
    from .server import load  # imported only when a Jupyter server loads the extension

    load(serverapp)
