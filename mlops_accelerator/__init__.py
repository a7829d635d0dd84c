"""MLOps Accelerator for Azure ML: the seven-stage guided workflow as software.

Importing the package is cheap on purpose: heavy libraries (azure.ai.ml, papermill,
jupyter, matplotlib) are imported only inside the functions that need them.
"""

__version__ = "0.1.0"

